// Transport security of every Pathway port and of every call between services
// (DESIGN.md §6): TLS with certificates and keys read from PEM files, optionally
// mutual (the client presents a certificate the server verifies), and plaintext
// only when a deployment asks for it by name (development on one host).
//
//   TlsOptions tls;                       // from --tls_cert_file and friends
//   tls.cert_file = "/etc/pathway/tls/registry.pem";
//   tls.key_file = "/etc/pathway/tls/registry.key";
//   tls.ca_file = "/etc/pathway/tls/ca.pem";
//   tls.require_client_cert = true;       // mutual TLS
//   ASSIGN_OR_RETURN(auto server_creds, MakeServerCredentials(tls));
//   ASSIGN_OR_RETURN(ChannelSecurity peers, MakeChannelSecurity(tls));
//   auto channel = PeerChannel("dns:///detox.pathway.svc:50052", peers);
//
// One set of files serves both directions: a service's certificate is its server
// certificate on its own port and its client certificate when it calls a peer, so
// the certificate carries both extended key usages (serverAuth, clientAuth). The CA
// file verifies whichever side is the other one: a peer's server certificate, and a
// client's certificate when require_client_cert is set.
//
// Files are read when credentials are made (at start); a rotated certificate takes
// effect on the next start of the process, so replicas roll one at a time. Key
// material never appears in a log line or an error message: errors name the file.
#ifndef PATHWAY_COMMON_TLS_TLS_H_
#define PATHWAY_COMMON_TLS_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pathway {

struct TlsOptions {
  // Plaintext, for development on one host only. Must be asked for explicitly:
  // with it false and no certificate, servers refuse to start.
  bool plaintext = false;
  // PEM certificate chain this process presents, and its private key.
  std::string cert_file;
  std::string key_file;
  // PEM CA certificates that verify the other side. Empty on a client: the
  // system's trust store. Required for require_client_cert.
  std::string ca_file;
  // Mutual TLS on the server side: a client without a certificate signed by
  // ca_file is refused during the handshake.
  bool require_client_cert = false;
  // The name a client checks in the server's certificate instead of the host of
  // the target (e.g. when a target lists replicas by IP address). Empty: the host.
  std::string server_name;
};

// OK if `tls` describes a usable server side: plaintext alone, or a certificate
// and its key (and a CA file when client certificates are required).
// INVALID_ARGUMENT naming what is missing or contradictory otherwise.
absl::Status ValidateServerTls(const TlsOptions& tls);
// As ValidateServerTls for a client: plaintext, or TLS with an optional client
// certificate (both files or neither).
absl::Status ValidateClientTls(const TlsOptions& tls);

// The credentials a server listens with. INVALID_ARGUMENT as ValidateServerTls;
// NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION naming a file that cannot be
// read or is not PEM.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& tls);

// How a client reaches a server: credentials plus the name checked in the
// server's certificate.
struct ChannelSecurity {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string server_name;  // empty: the target's host
  bool plaintext = false;

  // Adds what the credentials alone do not carry (the name override).
  void Apply(grpc::ChannelArguments* args) const;
};

// For a client or a service calling peers; errors as MakeServerCredentials.
absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const TlsOptions& tls);

// What a command-line client (pathwayctl, the reconciler, the load generator) uses,
// from the environment the servers read too: PATHWAY_TLS_CA_FILE,
// PATHWAY_TLS_CERT_FILE and PATHWAY_TLS_KEY_FILE (mutual TLS), and
// PATHWAY_TLS_SERVER_NAME. TLS when a CA or certificate file is named; plaintext
// otherwise, which a server that speaks TLS refuses at the handshake.
TlsOptions ClientTlsFromEnvironment();

// Plaintext, for tests and development tools that talk to a plaintext server.
ChannelSecurity PlaintextChannelSecurity();
inline TlsOptions PlaintextTls() {
  TlsOptions tls;
  tls.plaintext = true;
  return tls;
}

// A channel to `target` with `security` (no load-balancing policy; peers use
// PeerChannel).
std::shared_ptr<grpc::Channel> SecureChannel(const std::string& target,
                                             const ChannelSecurity& security);

}  // namespace pathway

#endif  // PATHWAY_COMMON_TLS_TLS_H_
