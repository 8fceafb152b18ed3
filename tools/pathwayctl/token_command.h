// `pathwayctl token`: mints a bearer token for development and operations.
//
//   pathwayctl token --role caseworker --jurisdiction 520102
//       [--subject S] [--org CODE] [--ttl 8h] [--key-file F]
//
// The HMAC key comes from --key-file, or else from the file named by the
// PATHWAY_TOKEN_KEY_FILE environment variable (read by main, passed in here):
// the key is configuration, never compiled in. The token goes to stdout on one
// line; errors go to stderr. Exit codes: 0 ok, 2 usage error (bad or missing
// flag, bad role, jurisdiction, subject, organization or ttl, no key file
// named), 1 anything else (key file missing or unusable).
//
// The subject defaults to "dev-<role>". --org is required for, and only
// allowed with, --role employer. The ttl must be 1s to 7 days (168h); fractions of a
// second are dropped.
//
// Plain functions; thread-safe as long as the streams passed in are not
// shared with another thread.
#ifndef PATHWAY_TOOLS_PATHWAYCTL_TOKEN_COMMAND_H_
#define PATHWAY_TOOLS_PATHWAYCTL_TOKEN_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/auth/role.h"
#include "common/auth/token.h"
#include "common/clock/clock.h"

namespace pathway {
namespace pathwayctl {

inline constexpr absl::Duration kDefaultTokenTtl = absl::Hours(8);
inline constexpr absl::Duration kMaxTokenTtl = absl::Hours(7 * 24);

// A parsed `pathwayctl token` command line.
struct TokenRequest {
  Role role = Role::kCaseworker;
  std::string jurisdiction;
  std::string subject;       // "dev-<role>" unless --subject was given
  std::string organization;  // --org
  absl::Duration ttl = kDefaultTokenTtl;
  std::string key_file;  // --key-file, else PATHWAY_TOKEN_KEY_FILE
  // --jwt-key: a PEM private key standing in for the identity provider; the token
  // is then an ES256/RS256 JWT with --kid, --issuer and --audience, which services
  // started with --jwks_file accept. With --new-jwks, the key pair is made first.
  std::string jwt_key_file;
  std::string new_jwks_file;
  std::string kid = "dev-1";
  std::string issuer = "pathway-dev";
  std::string audience = "pathway";
  bool help = false;     // --help / -h: print usage and do nothing else
};

// Parses the arguments that follow "token". `key_file_from_env` is the value
// of PATHWAY_TOKEN_KEY_FILE, empty if unset. Accepts "--flag value" and
// "--flag=value". INVALID_ARGUMENT (a usage error) for unknown, repeated or
// valueless flags, positional arguments, a missing --role or --jurisdiction,
// an unknown role, a jurisdiction the role may not hold, a bad ttl, or no key
// file from either source.
absl::StatusOr<TokenRequest> ParseTokenArgs(absl::Span<const std::string> args,
                                            absl::string_view key_file_from_env);

// The claims `request` asks for, issued at `now`. INVALID_ARGUMENT (a usage
// error) if they fail ValidateClaims, e.g. a bad subject or organization.
absl::StatusOr<Claims> TokenClaims(const TokenRequest& request, absl::Time now);

// Validates the request, loads the key and signs. INVALID_ARGUMENT for bad
// claims; LoadKeyFile's errors for the key file.
absl::StatusOr<std::string> MintToken(const TokenRequest& request, const Clock& clock);

// Runs `pathwayctl token <args>`: the token and a newline on `out`, or a
// message on `err`. Returns the process exit code (0, 1 or 2, see above).
int RunTokenCommand(absl::Span<const std::string> args, absl::string_view key_file_from_env,
                    const Clock& clock, std::ostream& out, std::ostream& err);

// The usage text of the token subcommand.
absl::string_view TokenUsage();

}  // namespace pathwayctl
}  // namespace pathway

#endif  // PATHWAY_TOOLS_PATHWAYCTL_TOKEN_COMMAND_H_
