# Shared steps of the benchmark scenarios (sourced, never run): build, start a
# private Pathway on loopback (own data dir, own ports, own redis-server, the same
# binaries and flags as deploy/local/up.sh), seed it, stop it.
#
# Environment (all optional):
#   PATHWAY_BUILD_DIR   build directory                      (default <repo>/build)
#   BENCH_DATA_DIR      data dir; reused (not deleted) when given, so a seeded
#                       data set can serve several scenarios  (default: a fresh
#                       temporary dir, deleted at the end)
#   BENCH_PORT_BASE     first of six ports: 5 services, then redis (default 47051)
#   BENCH_CASES         cases to seed                         (default per scenario)
#   BENCH_SEED_THREADS  cases in flight while seeding          (default 96)
#   BENCH_SEED_MAX_S    stop seeding after this many seconds (0: never); a rerun
#                       with the same BENCH_DATA_DIR continues where it stopped
#   BENCH_DURATION_S    measured seconds per phase            (default 5)
#   BENCH_ROUNDS        floor/scenario alternations            (default 2)
#   BENCH_LOG_LEVEL     the services' log level                (default info, as deployed)
#   BENCH_DATABASE      sqlite (default) or postgres: a PostgreSQL 15 of its own
#                       (deploy/local/postgres.sh, default settings, durable commits)
#                       on the seventh port, in <data dir>-pg, one database per service
set -euo pipefail

bench_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
build_dir="${PATHWAY_BUILD_DIR:-$bench_root/build}"
services=(registry community_detox compulsory_isolation community_rehab placement)
port_base="${BENCH_PORT_BASE:-47051}"
ports=()
for i in 0 1 2 3 4; do ports+=($((port_base + i))); done
redis_port=$((port_base + 5))
duration_s="${BENCH_DURATION_S:-5}"
rounds="${BENCH_ROUNDS:-2}"
pids=()
service_pids=()
owned_data_dir=""

bench_build() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S "$bench_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  local targets=(pathway_bench pathway_seed reconcile "$@")
  for s in "${services[@]}"; do targets+=("${s}_server"); done
  cmake --build "$build_dir" -j "$(nproc)" --target "${targets[@]}" >/dev/null
}

bench_stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  if [ -n "$owned_data_dir" ]; then rm -rf "$owned_data_dir" "$owned_data_dir-pg"; fi
}

# Starts redis and the five services; sets data_dir, key_file, addr_<service>.
bench_start() {
  if [ -n "${BENCH_DATA_DIR:-}" ]; then
    data_dir="$BENCH_DATA_DIR"
    mkdir -p "$data_dir"
  else
    data_dir="$(mktemp -d /tmp/pathway-bench.XXXXXX)"
    owned_data_dir="$data_dir"
  fi
  data_dir="$(cd "$data_dir" && pwd)"
  chmod 700 "$data_dir"
  mkdir -p "$data_dir/logs" "$data_dir/redis"
  trap bench_stop EXIT INT TERM
  key_file="$data_dir/dev-token.key"
  [ -s "$key_file" ] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$key_file")
  pii_key_file="$data_dir/dev-pii.key"
  [ -s "$pii_key_file" ] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 > "$pii_key_file")

  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$data_dir/redis" \
    --save "" --appendonly no --daemonize no --loglevel warning \
    >> "$data_dir/logs/redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  addr_registry="127.0.0.1:${ports[0]}"
  addr_community_detox="127.0.0.1:${ports[1]}"
  addr_compulsory_isolation="127.0.0.1:${ports[2]}"
  addr_community_rehab="127.0.0.1:${ports[3]}"
  addr_placement="127.0.0.1:${ports[4]}"
  local db_args=()
  if [ "${BENCH_DATABASE:-sqlite}" = postgres ]; then
    source "$bench_root/deploy/local/postgres.sh"
    pg_up "$data_dir-pg" "$((port_base + 6))" "$data_dir/dev-postgres.pass" \
      "$data_dir/logs/postgres.log" "${services[@]}"
    pids+=("$pg_pid")
    db_args=(--database_password_file "$data_dir/dev-postgres.pass")
  fi
  local peers=(--registry_addr "$addr_registry" --detox_addr "$addr_community_detox"
    --isolation_addr "$addr_compulsory_isolation" --rehab_addr "$addr_community_rehab"
    --placement_addr "$addr_placement")
  for i in "${!services[@]}"; do
    local s="${services[$i]}" extra=()
    [ "$s" = registry ] && extra=(--pii_key_file "$pii_key_file")
    [ "${BENCH_DATABASE:-sqlite}" = postgres ] &&
      extra+=(--database "postgresql://pathway@127.0.0.1:$((port_base + 6))/$s")
    "$build_dir/services/$s/${s}_server" \
      --host 127.0.0.1 --port "${ports[$i]}" --data_dir "$data_dir" \
      --redis_port "$redis_port" --token_key_file "$key_file" --plaintext \
      --log_level "${BENCH_LOG_LEVEL:-info}" "${peers[@]}" "${db_args[@]}" "${extra[@]}" \
      >> "$data_dir/logs/$s.log" 2>&1 &
    pids+=($!)
    service_pids+=($!)
  done
  for i in "${!services[@]}"; do
    if ! "$build_dir/tools/bench/pathway_bench" --scenario=wait \
        --addr="127.0.0.1:${ports[$i]}" --deadline_ms=60000; then
      echo "${services[$i]} did not become SERVING; see $data_dir/logs/${services[$i]}.log" >&2
      exit 1
    fi
  done
  echo "# pathway up: services on 127.0.0.1:${ports[0]}-${ports[4]}, redis :$redis_port, data $data_dir, database ${BENCH_DATABASE:-sqlite}"
}

# Seeds $1 cases unless $data_dir/cases.tsv already lists that many.
bench_seed() {
  local want="$1" have=0
  [ -f "$data_dir/cases.tsv" ] && have=$(wc -l < "$data_dir/cases.tsv")
  if [ "$have" -ge "$want" ]; then
    echo "# reusing $have seeded cases in $data_dir"
    bench_fill_cache
    return
  fi
  "$build_dir/tools/bench/pathway_seed" --cases=$((want - have)) --first="$have" \
    --token_key_file="$key_file" --out="$data_dir/cases.tsv" \
    --registry_addr="$addr_registry" --detox_addr="$addr_community_detox" \
    --isolation_addr="$addr_compulsory_isolation" --rehab_addr="$addr_community_rehab" \
    --placement_addr="$addr_placement" --threads="${BENCH_SEED_THREADS:-96}" \
    --max_seconds="${BENCH_SEED_MAX_S:-0}" \
    --progress_every=50000 | sed 's/^/# /'
  # Cases seeded by an earlier run are not in this run's (fresh) Redis.
  if [ "$have" -gt 0 ]; then bench_fill_cache; fi
}

# Redis starts empty (it is a cache, never saved): after a restart over seeded
# data, the reconciler fills it so that reads measure cache hits.
bench_fill_cache() {
  "$build_dir/tools/reconcile/reconcile" --token_key_file="$key_file" \
    --redis_port="$redis_port" --detox_addr="$addr_community_detox" \
    --isolation_addr="$addr_compulsory_isolation" --rehab_addr="$addr_community_rehab" \
    --placement_addr="$addr_placement" --progress=none --log_level=warning \
    2>>"$data_dir/logs/reconcile.log" | head -1 | sed 's/^/# cache filled: /' || true
}

bench_machine() {
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), $(c++ --version | head -1)"
  echo "# load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Peak and current resident memory of each running service (VmHWM, VmRSS).
bench_memory() {
  printf '%-22s %10s %10s\n' "process" "VmHWM_MB" "VmRSS_MB"
  local names=("${services[@]}" redis-server) all=("${service_pids[@]}" "$redis_pid")
  for i in "${!names[@]}"; do
    awk -v name="${names[$i]}" '/VmHWM/{h=$2} /VmRSS/{r=$2}
      END{printf "%-22s %10.1f %10.1f\n", name, h/1024, r/1024}' "/proc/${all[$i]}/status"
  done
}
