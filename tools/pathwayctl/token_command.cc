#include "tools/pathwayctl/token_command.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/auth/jurisdiction.h"
#include "common/auth/jwt_issuer.h"
#include "common/status/status_macros.h"

namespace pathway {
namespace pathwayctl {
namespace {

constexpr absl::string_view kUsage =
    "usage: pathwayctl token --role ROLE --jurisdiction CODE [--subject S]\n"
    "                        [--org CODE] [--ttl 8h] [--key-file FILE]\n"
    "                        [--jwt-key FILE [--new-jwks FILE] [--kid K] [--issuer I]\n"
    "                         [--audience A]]\n"
    "\n"
    "Prints a signed bearer token on stdout.\n"
    "\n"
    "  --role          caseworker, police, facility_staff, labor_bureau, employer,\n"
    "                  auditor, batch, service or admin\n"
    "  --jurisdiction  division-code prefix: 2, 4 or 6 digits, or '*' (national;\n"
    "                  service, batch, admin and auditor only)\n"
    "  --subject       user id, 1-64 of [A-Za-z0-9._@-] (default dev-<role>)\n"
    "  --org           unified social credit code; employer only, and required\n"
    "  --ttl           lifetime, e.g. 30m or 8h (default 8h, at most 168h)\n"
    "  --key-file      HMAC key file (default: $PATHWAY_TOKEN_KEY_FILE): a\n"
    "                  development token, or a service's\n"
    "  --jwt-key       PEM private key standing in for the identity provider: the\n"
    "                  token is an ES256 (EC key) or RS256 (RSA key) JWT, accepted\n"
    "                  by services started with --jwks_file\n"
    "  --new-jwks      make a fresh ES256 key pair first: the private key in\n"
    "                  --jwt-key (never overwritten) and the public key added to\n"
    "                  this JWKS file, under --kid\n"
    "  --kid           key id in the token's header (default dev-1)\n"
    "  --issuer        iss claim (default pathway-dev; services' --token_issuer)\n"
    "  --audience      aud claim (default pathway; services' --token_audience)\n";

constexpr absl::string_view kFlags[] = {"role",    "jurisdiction", "subject", "org",
                                        "ttl",     "key-file",     "jwt-key", "new-jwks",
                                        "kid",     "issuer",       "audience"};

bool IsKnownFlag(absl::string_view name) {
  for (absl::string_view flag : kFlags) {
    if (flag == name) return true;
  }
  return false;
}

absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

// Collects --name value / --name=value pairs.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> CollectFlags(
    absl::Span<const std::string> args, bool* help) {
  absl::flat_hash_map<std::string, std::string> values;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      *help = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--") || arg.empty()) {
      return Usage(absl::StrCat("unexpected argument \"", args[i], "\""));
    }
    std::string name;
    std::string value;
    size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
      if (i + 1 >= args.size() || absl::StartsWith(args[i + 1], "--")) {
        if (!IsKnownFlag(name)) return Usage(absl::StrCat("unknown flag --", name));
        return Usage(absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (!IsKnownFlag(name)) return Usage(absl::StrCat("unknown flag --", name));
    if (!values.emplace(name, std::move(value)).second) {
      return Usage(absl::StrCat("flag --", name, " given twice"));
    }
  }
  return values;
}

}  // namespace

absl::string_view TokenUsage() { return kUsage; }

absl::StatusOr<TokenRequest> ParseTokenArgs(absl::Span<const std::string> args,
                                            absl::string_view key_file_from_env) {
  TokenRequest request;
  ASSIGN_OR_RETURN(auto flags, CollectFlags(args, &request.help));
  if (request.help) return request;

  auto role_it = flags.find("role");
  if (role_it == flags.end()) return Usage("--role is required");
  ASSIGN_OR_RETURN(request.role, ParseRole(role_it->second));

  auto jur_it = flags.find("jurisdiction");
  if (jur_it == flags.end()) return Usage("--jurisdiction is required");
  request.jurisdiction = jur_it->second;
  RETURN_IF_ERROR(ValidateJurisdiction(request.jurisdiction, request.role));

  auto subject_it = flags.find("subject");
  request.subject =
      subject_it != flags.end() ? subject_it->second : absl::StrCat("dev-", RoleName(request.role));

  auto org_it = flags.find("org");
  if (org_it != flags.end()) request.organization = org_it->second;

  auto ttl_it = flags.find("ttl");
  if (ttl_it != flags.end()) {
    if (!absl::ParseDuration(ttl_it->second, &request.ttl) || request.ttl < absl::Seconds(1) ||
        request.ttl > kMaxTokenTtl) {
      return Usage("--ttl must be a duration from 1s to 168h, such as 30m or 8h");
    }
  }

  for (auto [name, field] : {std::pair<const char*, std::string*>{"jwt-key", &request.jwt_key_file},
                             {"new-jwks", &request.new_jwks_file},
                             {"kid", &request.kid},
                             {"issuer", &request.issuer},
                             {"audience", &request.audience}}) {
    if (auto it = flags.find(name); it != flags.end()) *field = it->second;
  }
  if (!request.jwt_key_file.empty()) {
    if (flags.count("key-file") > 0) return Usage("--key-file and --jwt-key exclude each other");
    return request;
  }
  if (!request.new_jwks_file.empty()) return Usage("--new-jwks needs --jwt-key");
  auto key_it = flags.find("key-file");
  request.key_file = key_it != flags.end() ? key_it->second : std::string(key_file_from_env);
  if (request.key_file.empty()) {
    return Usage("no key file: pass --key-file or set PATHWAY_TOKEN_KEY_FILE");
  }
  return request;
}

absl::StatusOr<Claims> TokenClaims(const TokenRequest& request, absl::Time now) {
  Claims claims;
  claims.subject = request.subject;
  claims.role = request.role;
  claims.jurisdiction = request.jurisdiction;
  claims.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  claims.expires_at = claims.issued_at + absl::Trunc(request.ttl, absl::Seconds(1));
  claims.organization = request.organization;
  RETURN_IF_ERROR(ValidateClaims(claims));
  return claims;
}

absl::StatusOr<std::string> MintToken(const TokenRequest& request, const Clock& clock) {
  ASSIGN_OR_RETURN(Claims claims, TokenClaims(request, clock.Now()));
  if (!request.jwt_key_file.empty()) {
    if (!request.new_jwks_file.empty()) {
      RETURN_IF_ERROR(WriteDevelopmentKeyPair(request.jwt_key_file, request.new_jwks_file,
                                              request.kid, JwtAlgorithm::kEs256));
    }
    JwtIssuerOptions o;
    o.private_key_file = request.jwt_key_file;
    o.kid = request.kid;
    o.issuer = request.issuer;
    o.audience = request.audience;
    ASSIGN_OR_RETURN(std::unique_ptr<JwtIssuer> issuer, JwtIssuer::Create(o));
    return issuer->Issue(claims);
  }
  ASSIGN_OR_RETURN(std::string key, LoadKeyFile(request.key_file));
  ASSIGN_OR_RETURN(std::unique_ptr<TokenSigner> signer, TokenSigner::Create(std::move(key)));
  return signer->Sign(claims);
}

int RunTokenCommand(absl::Span<const std::string> args, absl::string_view key_file_from_env,
                    const Clock& clock, std::ostream& out, std::ostream& err) {
  absl::StatusOr<TokenRequest> request = ParseTokenArgs(args, key_file_from_env);
  if (!request.ok()) {
    err << "pathwayctl token: " << request.status().message() << "\n"
        << "run 'pathwayctl help token' for usage\n";
    return 2;
  }
  if (request->help) {
    out << kUsage;
    return 0;
  }
  // Claims first, so a bad subject or organization is a usage error whatever
  // the state of the key file.
  absl::StatusOr<Claims> claims = TokenClaims(*request, clock.Now());
  if (!claims.ok()) {
    err << "pathwayctl token: " << claims.status().message() << "\n"
        << "run 'pathwayctl help token' for usage\n";
    return 2;
  }
  absl::StatusOr<std::string> token = MintToken(*request, clock);
  if (!token.ok()) {
    err << "pathwayctl token: " << token.status().message() << "\n";
    return 1;
  }
  out << *token << "\n";
  return 0;
}

}  // namespace pathwayctl
}  // namespace pathway
