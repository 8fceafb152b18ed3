// pathwayctl: environment -> pathwayctl::Run; nothing else (STYLE.md rule 10).
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/clock/clock.h"
#include "common/tls/tls.h"
#include "tools/pathwayctl/pathwayctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  pathway::pathwayctl::Environment env;
  if (const char* key_file = std::getenv(pathway::pathwayctl::kTokenKeyFileEnv)) {
    env.token_key_file = key_file;
  }
  if (const char* token = std::getenv("PATHWAY_TOKEN")) env.token = token;
  env.tls = pathway::ClientTlsFromEnvironment();
  for (pathway::pathwayctl::ServiceAddress& s : env.services) {
    const std::string var = pathway::pathwayctl::ServiceAddressEnv(s.name);
    if (const char* addr = std::getenv(var.c_str()); addr != nullptr && *addr != '\0') {
      s.address = addr;
    }
  }
  env.stderr_is_terminal = isatty(STDERR_FILENO) != 0;
  pathway::RealClock clock;
  return pathway::pathwayctl::Run(args, env, clock, std::cout, std::cerr);
}
