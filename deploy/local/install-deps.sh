#!/usr/bin/env bash
# Installs the Debian 12 packages Pathway needs to build, test and run locally.
# Idempotent: installs only what is missing, and touches apt only then.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  grpc-proto libabsl-dev libhiredis-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libpq-dev postgresql-15
  librhonabwy-dev prometheus-cpp-dev
  redis-server redis-tools openssl
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# The redis-server package starts a system instance on 6379; Pathway's scripts run
# their own on other ports, so the system one is left alone.
# Likewise postgresql-15 may create and start a cluster on 5432; tests run their own
# server (common/store/testing_postgres) on a socket in a temporary directory.
