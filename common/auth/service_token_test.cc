#include "common/auth/service_token.h"

#include "gtest/gtest.h"

namespace pathway {
namespace {

constexpr char kKey[] = "service-token-test-key-0123456789abcdefgh";

TEST(ServiceTokenSourceTest, MintsVerifiableServiceTokensAndRenewsThem) {
  FakeClock clock(absl::FromUnixSeconds(1795000000));
  auto signer = TokenSigner::Create(kKey);
  auto verifier = TokenVerifier::Create(kKey, &clock);
  ASSERT_TRUE(signer.ok() && verifier.ok());
  ServiceTokenSource source(signer->get(), &clock, "svc-registry", absl::Hours(1));

  std::string first = source.Token();
  auto claims = (*verifier)->Verify(first);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->role, Role::kService);
  EXPECT_EQ(claims->jurisdiction, "*");
  EXPECT_EQ(claims->subject, "svc-registry");

  clock.Advance(absl::Minutes(30));
  EXPECT_EQ(source.Token(), first) << "cached while plenty of life is left";
  clock.Advance(absl::Minutes(20));  // 10 minutes left: under a quarter
  std::string renewed = source.Token();
  EXPECT_NE(renewed, first);
  EXPECT_TRUE((*verifier)->Verify(renewed).ok());
}

}  // namespace
}  // namespace pathway
