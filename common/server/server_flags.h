// Fills ServerOptions from command-line flags and the environment. Called only from
// a binary's main (STYLE.md rule 10). A flag given on the command line wins over the
// environment, which wins over the default.
//
//   flag                 environment              default
//   --host               PATHWAY_HOST             127.0.0.1
//   --port               PATHWAY_PORT             the service's dev port
//   --metrics_port       PATHWAY_METRICS_PORT     0 (no metrics endpoint)
//   --data_dir           PATHWAY_DATA_DIR         ./data
//   --redis_host         PATHWAY_REDIS_HOST       127.0.0.1
//   --redis_port         PATHWAY_REDIS_PORT       6379
//   --redis_timeout_ms   PATHWAY_REDIS_TIMEOUT_MS 200
//   --redis_password_file PATHWAY_REDIS_PASSWORD_FILE (none)
//   --token_key_file     PATHWAY_TOKEN_KEY_FILE   (required)
//   --drain_timeout_s    PATHWAY_DRAIN_TIMEOUT_S  10
//   --log_level          PATHWAY_LOG_LEVEL        info
//   --registry_addr      PATHWAY_REGISTRY_ADDR    127.0.0.1:50051
//   --detox_addr         PATHWAY_DETOX_ADDR       127.0.0.1:50052
//   --isolation_addr     PATHWAY_ISOLATION_ADDR   127.0.0.1:50053
//   --rehab_addr         PATHWAY_REHAB_ADDR       127.0.0.1:50054
//   --placement_addr     PATHWAY_PLACEMENT_ADDR   127.0.0.1:50055
//   --peer_timeout_ms    PATHWAY_PEER_TIMEOUT_MS  2000
//   --jwks_reread_interval_ms PATHWAY_JWKS_REREAD_INTERVAL_MS 1000
//   --service_callers    PATHWAY_SERVICE_CALLERS  the services that call this one
//                        (comma-separated certificate CNs, or "none"; mutual TLS only)
#ifndef PATHWAY_COMMON_SERVER_SERVER_FLAGS_H_
#define PATHWAY_COMMON_SERVER_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/server/server_options.h"

namespace pathway {

// Parses argv (absl flags; --help lists them) and the environment into validated
// options. INVALID_ARGUMENT says which flag or variable is wrong.
absl::StatusOr<ServerOptions> ServerOptionsFromFlagsAndEnv(absl::string_view service_name,
                                                           int default_port, int argc,
                                                           char** argv);

}  // namespace pathway

#endif  // PATHWAY_COMMON_SERVER_SERVER_FLAGS_H_
