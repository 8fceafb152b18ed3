#include "common/tls/tls.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pathway {

namespace {

// Certificates and keys are small; anything larger is not one.
constexpr std::streamsize kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    const std::string reason = absl::StrCat("cannot read the ", what, " file ", path);
    if (err == ENOENT) return absl::NotFoundError(reason);
    if (err == EACCES) return absl::PermissionDeniedError(reason);
    return absl::FailedPreconditionError(reason);
  }
  std::string data(static_cast<size_t>(kMaxPemBytes) + 1, '\0');
  in.read(data.data(), kMaxPemBytes + 1);
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > static_cast<size_t>(kMaxPemBytes)) {
    return absl::FailedPreconditionError(absl::StrCat("the ", what, " file ", path, " is too large"));
  }
  if (!absl::StrContains(data, "-----BEGIN ")) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ", what, " file ", path, " holds no PEM block"));
  }
  return data;
}

void Wipe(std::string* s) {
  volatile char* p = s->data();
  for (size_t i = 0; i < s->size(); ++i) p[i] = '\0';
}

}  // namespace

absl::Status ValidateClientTls(const TlsOptions& tls) {
  const bool any_file = !tls.cert_file.empty() || !tls.key_file.empty() || !tls.ca_file.empty();
  if (tls.plaintext && any_file) {
    return absl::InvalidArgumentError("plaintext was asked for together with TLS files");
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError("a TLS certificate needs its key, and a key its certificate");
  }
  return absl::OkStatus();
}

absl::Status ValidateServerTls(const TlsOptions& tls) {
  if (absl::Status s = ValidateClientTls(tls); !s.ok()) return s;
  if (tls.plaintext) {
    if (tls.require_client_cert) {
      return absl::InvalidArgumentError("client certificates need TLS, not plaintext");
    }
    return absl::OkStatus();
  }
  if (tls.cert_file.empty()) {
    return absl::InvalidArgumentError(
        "no TLS certificate: give a certificate and key (--tls_cert_file, --tls_key_file), "
        "or ask for plaintext (--plaintext, development only)");
  }
  if (tls.require_client_cert && tls.ca_file.empty()) {
    return absl::InvalidArgumentError("client certificates are verified against a CA file: "
                                      "give --tls_ca_file");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& tls) {
  if (absl::Status s = ValidateServerTls(tls); !s.ok()) return s;
  if (tls.plaintext) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls.require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                              : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key_file, "TLS key");
  if (!key.ok()) return key.status();
  pair.cert_chain = *std::move(cert);
  pair.private_key = *std::move(key);
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.ca_file, "TLS CA");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  options.pem_key_cert_pairs.push_back(pair);
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(options);
  Wipe(&pair.private_key);
  Wipe(&options.pem_key_cert_pairs[0].private_key);
  return creds;
}

void ChannelSecurity::Apply(grpc::ChannelArguments* args) const {
  if (!server_name.empty()) args->SetSslTargetNameOverride(server_name);
}

absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const TlsOptions& tls) {
  if (absl::Status s = ValidateClientTls(tls); !s.ok()) return s;
  if (tls.plaintext) return PlaintextChannelSecurity();
  grpc::SslCredentialsOptions options;
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.ca_file, "TLS CA");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *std::move(ca);
  }
  if (!tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "TLS certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(tls.key_file, "TLS key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *std::move(cert);
    options.pem_private_key = *std::move(key);
  }
  ChannelSecurity security;
  security.credentials = grpc::SslCredentials(options);
  security.server_name = tls.server_name;
  Wipe(&options.pem_private_key);
  return security;
}

TlsOptions ClientTlsFromEnvironment() {
  auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  TlsOptions tls;
  tls.ca_file = get("PATHWAY_TLS_CA_FILE");
  tls.cert_file = get("PATHWAY_TLS_CERT_FILE");
  tls.key_file = get("PATHWAY_TLS_KEY_FILE");
  tls.server_name = get("PATHWAY_TLS_SERVER_NAME");
  tls.plaintext = tls.ca_file.empty() && tls.cert_file.empty() && tls.key_file.empty();
  return tls;
}

ChannelSecurity PlaintextChannelSecurity() {
  ChannelSecurity security;
  security.credentials = grpc::InsecureChannelCredentials();
  security.plaintext = true;
  return security;
}

std::shared_ptr<grpc::Channel> SecureChannel(const std::string& target,
                                             const ChannelSecurity& security) {
  grpc::ChannelArguments args;
  security.Apply(&args);
  return grpc::CreateCustomChannel(target, security.credentials, args);
}

}  // namespace pathway
