// Certificates for tests that run Pathway over TLS, made by the same script an
// operator uses for a development stack (deploy/local/dev-tls.sh), so the tests
// check that script too.
//
//   ASSIGN_OR_RETURN(test::DevPki pki, test::MakeDevPki(dir + "/tls", {"registry", "client"}));
//   TlsOptions tls{.cert_file = pki.Cert("registry"), ...};
//
// Test-only: the keys are made fresh for each run and never leave `dir`.
#ifndef PATHWAY_TESTS_TESTING_DEV_PKI_H_
#define PATHWAY_TESTS_TESTING_DEV_PKI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pathway {
namespace test {

struct DevPki {
  std::string dir;
  std::string CaFile() const { return dir + "/ca.pem"; }
  std::string Cert(const std::string& name) const { return dir + "/" + name + ".pem"; }
  std::string Key(const std::string& name) const { return dir + "/" + name + ".key"; }
};

// A CA in `dir` and a certificate for each of `names` (CN=name, for 127.0.0.1 and
// localhost, server and client use). INTERNAL if the script fails.
absl::StatusOr<DevPki> MakeDevPki(const std::string& dir, const std::vector<std::string>& names);

}  // namespace test
}  // namespace pathway

#endif  // PATHWAY_TESTS_TESTING_DEV_PKI_H_
