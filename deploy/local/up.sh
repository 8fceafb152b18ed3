#!/usr/bin/env bash
# Brings up Pathway on this machine: installs missing Debian packages, builds
# (Release), starts a redis-server and the five services on loopback, prints where
# each listens and a development token, and stops everything on Ctrl-C or SIGTERM.
#
#   deploy/local/up.sh
#
# Environment (all optional):
#   PATHWAY_DATA_DIR    SQLite files, the dev token key and logs   (default ./data)
#   PATHWAY_REDIS_PORT  port of the local redis-server             (default 6380)
#   PATHWAY_BUILD_DIR   build directory                            (default ./build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/install-deps.sh

build_dir="${PATHWAY_BUILD_DIR:-$root/build}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
services=(registry community_detox compulsory_isolation community_rehab placement)
ports=(50051 50052 50053 50054 50055)
targets=(pathwayctl)
for s in "${services[@]}"; do targets+=("${s}_server"); done
cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}"

data_dir="${PATHWAY_DATA_DIR:-$root/data}"
mkdir -p "$data_dir/logs" "$data_dir/redis"
data_dir="$(cd "$data_dir" && pwd)"
chmod 700 "$data_dir"
key_file="$data_dir/dev-token.key"
if [ ! -s "$key_file" ]; then
  # A fresh random development key per checkout; never a key compiled in.
  (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$key_file")
fi
pii_key_file="$data_dir/dev-pii.key"
if [ ! -s "$pii_key_file" ]; then
  # The registry's personal-data master key (ID numbers are encrypted with keys
  # derived from it). Losing it loses the data: production keeps it in a KMS.
  (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$pii_key_file")
fi
audit_key_file="$data_dir/dev-audit.key"
if [ ! -s "$audit_key_file" ]; then
  # The audit chain key (HMAC of every audit row and anchor; never in a database).
  # Losing it makes the existing trail unverifiable: production keeps it in a KMS.
  (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$audit_key_file")
fi
redis_port="${PATHWAY_REDIS_PORT:-6380}"
ctl="$build_dir/tools/pathwayctl/pathwayctl"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped"
  exit 0
}
trap stop_all INT TERM EXIT

# The cache only: nothing in it needs to survive a restart (DESIGN.md §4).
redis_cmd=(redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$data_dir/redis"
  --save "" --appendonly no --daemonize no --loglevel warning)
"${redis_cmd[@]}" >> "$data_dir/logs/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")

for i in "${!services[@]}"; do
  s="${services[$i]}"
  extra=()
  [ "$s" = registry ] && extra=(--pii_key_file "$pii_key_file")
  case "$s" in community_detox|community_rehab)
    extra=(--policy_file "$root/deploy/config/supervision.policy") ;;
  esac
  "$build_dir/services/$s/${s}_server" \
    --port "${ports[$i]}" --data_dir "$data_dir" --redis_port "$redis_port" \
    --token_key_file "$key_file" --audit_key_file "$audit_key_file" "${extra[@]}" \
    >> "$data_dir/logs/$s.log" 2>&1 &
  pids+=($!)
done

for i in "${!services[@]}"; do
  if ! "$ctl" health --addr "127.0.0.1:${ports[$i]}" --wait 30s >/dev/null; then
    echo "${services[$i]} did not become SERVING; see $data_dir/logs/${services[$i]}.log" >&2
    exit 1
  fi
done

token="$(PATHWAY_TOKEN_KEY_FILE="$key_file" "$ctl" token --role admin --jurisdiction '*' --ttl 12h)"
echo
echo "Pathway is up (data in $data_dir, logs in $data_dir/logs)"
for i in "${!services[@]}"; do
  printf '  %-22s 127.0.0.1:%s  SERVING\n' "${services[$i]}" "${ports[$i]}"
done
printf '  %-22s 127.0.0.1:%s\n' "redis (status cache)" "$redis_port"
echo
echo "Development token (admin, national, 12 h):"
echo "  $token"
echo "Others: PATHWAY_TOKEN_KEY_FILE=$key_file $ctl token --role caseworker --jurisdiction 520102"
echo
echo "Ctrl-C stops everything."

# Wait for a signal. Redis may be stopped on purpose (the services keep serving
# without it, DESIGN.md §4); if a service dies, stop the rest.
while true; do
  exited=""
  wait -n -p exited "${pids[@]}" || true
  if [ "${exited:-}" = "$redis_pid" ]; then
    echo "redis stopped; the services keep serving without the cache."
    echo "  start it again: $(printf '%q ' "${redis_cmd[@]}")&"
    remaining=()
    for pid in "${pids[@]}"; do [ "$pid" != "$redis_pid" ] && remaining+=("$pid"); done
    pids=("${remaining[@]}")
    continue
  fi
  echo "a service exited; see $data_dir/logs" >&2
  exit 1
done
