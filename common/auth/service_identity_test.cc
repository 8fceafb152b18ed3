#include "common/auth/service_identity.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pathway {
namespace {

Claims ServiceClaims(const std::string& subject) {
  Claims c;
  c.subject = subject;
  c.role = Role::kService;
  c.jurisdiction = "*";
  return c;
}

const std::vector<std::string> kCallers = {"registry", "compulsory_isolation"};

TEST(ServiceIdentityTest, SubjectNamesTheService) {
  EXPECT_EQ(ServiceSubject("community_detox"), "svc-community_detox");
}

TEST(ServiceIdentityTest, AcceptsAnAllowedPeerPresentingItsOwnToken) {
  EXPECT_TRUE(CheckServicePeer("registry", ServiceClaims("svc-registry"), kCallers).ok());
  EXPECT_TRUE(
      CheckServicePeer("compulsory_isolation", ServiceClaims("svc-compulsory_isolation"), kCallers)
          .ok());
}

TEST(ServiceIdentityTest, RefusesEveryOtherServiceToken) {
  struct Case {
    const char* why;
    std::string peer;
    std::string subject;
  };
  for (const Case& c : {
           Case{"no certificate", "", "svc-registry"},
           Case{"a client's certificate", "client", "svc-registry"},
           Case{"a service that is not a caller", "placement", "svc-placement"},
           Case{"the token names another caller", "registry", "svc-compulsory_isolation"},
           Case{"the token names no service", "registry", "registry"},
           Case{"the token names the peer with a suffix", "registry", "svc-registry2"},
           Case{"a CN that only starts like a caller", "registry2", "svc-registry2"},
       }) {
    absl::Status s = CheckServicePeer(c.peer, ServiceClaims(c.subject), kCallers);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << c.why;
    EXPECT_EQ(s.message(), kServicePeerRefused) << c.why;
  }
  EXPECT_EQ(CheckServicePeer("registry", ServiceClaims("svc-registry"), {}).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(ServiceIdentityTest, PeopleAreNotConcerned) {
  Claims person;
  person.subject = "cw-1";
  person.role = Role::kCaseworker;
  person.jurisdiction = "520102";
  EXPECT_TRUE(CheckServicePeer("", person, kCallers).ok());
  EXPECT_TRUE(CheckServicePeer("client", person, {}).ok());
}

TEST(ServiceIdentityTest, DefaultCallersFollowTheCallsBetweenServices) {
  using V = std::vector<std::string>;
  EXPECT_EQ(DefaultServiceCallers("registry"),
            (V{"community_detox", "compulsory_isolation", "community_rehab", "placement"}));
  EXPECT_EQ(DefaultServiceCallers("community_detox"), (V{"registry", "compulsory_isolation"}));
  EXPECT_EQ(DefaultServiceCallers("compulsory_isolation"), (V{"registry"}));
  EXPECT_EQ(DefaultServiceCallers("community_rehab"), (V{"registry", "compulsory_isolation"}));
  EXPECT_EQ(DefaultServiceCallers("placement"), (V{"registry", "compulsory_isolation"}));
  EXPECT_TRUE(DefaultServiceCallers("reconcile").empty());
  for (absl::string_view name : kServiceNames) {
    EXPECT_TRUE(IsServiceName(name));
    for (const std::string& caller : DefaultServiceCallers(name)) {
      EXPECT_TRUE(IsServiceName(caller)) << caller;
      EXPECT_NE(caller, name) << "a service never calls itself";
    }
  }
  EXPECT_FALSE(IsServiceName("client"));
  EXPECT_FALSE(IsServiceName(""));
}

}  // namespace
}  // namespace pathway
