#include "tests/testing/fixtures.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "common/auth/token.h"

namespace pathway {
namespace test {

absl::Time ChinaNoon(int y, int m, int d) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, 12, 0, 0), absl::FixedTimeZone(8 * 3600));
}

Caller MakeCaller(Role role, const std::string& jurisdiction, const std::string& subject) {
  Caller c;
  c.claims.subject = subject;
  c.claims.role = role;
  c.claims.jurisdiction = jurisdiction;
  return c;
}

common::v1::Date D(int y, int m, int d) {
  common::v1::Date out;
  out.set_year(y);
  out.set_month(m);
  out.set_day(d);
  return out;
}

std::string SignedToken(absl::string_view key, Role role, const std::string& jurisdiction,
                        const std::string& subject, absl::Time issued_at, absl::Time expires_at,
                        const std::string& organization) {
  Claims c;
  c.subject = subject;
  c.role = role;
  c.jurisdiction = jurisdiction;
  c.organization = organization;
  c.issued_at = issued_at;
  c.expires_at = expires_at;
  absl::StatusOr<std::unique_ptr<TokenSigner>> signer = TokenSigner::Create(std::string(key));
  absl::StatusOr<std::string> token =
      signer.ok() ? (*signer)->Sign(c) : absl::StatusOr<std::string>(signer.status());
  if (!token.ok()) {
    std::cerr << "test token: " << token.status() << "\n";
    std::abort();
  }
  return *token;
}

}  // namespace test
}  // namespace pathway
