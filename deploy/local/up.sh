#!/usr/bin/env bash
# Brings up Pathway on this machine: installs missing Debian packages, builds
# (Release), starts a redis-server and the five services on loopback, prints where
# each listens and a development token, and stops everything on Ctrl-C or SIGTERM.
#
#   deploy/local/up.sh                                  # SQLite, one of each
#   deploy/local/up.sh --database postgres              # a local PostgreSQL 15 too
#   deploy/local/up.sh --database postgres --replicas 2 # two of every service
#   deploy/local/up.sh --tls                            # mutual TLS on every port
#
# Without --tls the ports speak plaintext on loopback (development only; the
# servers are started with --plaintext). With --tls a development CA and a
# certificate per service and one for clients are made once in <data dir>/dev-tls
# (deploy/local/dev-tls.sh); every service presents its certificate on its port and
# to its peers and refuses clients without one from that CA. pathwayctl and the
# reconciler then need PATHWAY_TLS_CA_FILE, PATHWAY_TLS_CERT_FILE and
# PATHWAY_TLS_KEY_FILE, which up.sh prints.
#
# With --database postgres a PostgreSQL server is made (initdb, once) in
# PATHWAY_PG_DIR and started on 127.0.0.1:PATHWAY_PG_PORT; every service gets a
# database of its own, reached as role `pathway` with a password kept in a file
# (never on a command line). With --replicas 2 the second replica of each service
# listens on 50151-50155 on the same databases, and peers are reached through
# both (gRPC round robin over the two addresses).
#
# Environment (all optional):
#   PATHWAY_DATA_DIR    SQLite files, the dev keys and logs        (default ./data)
#   PATHWAY_REDIS_PORT  port of the local redis-server             (default 6380)
#   PATHWAY_BUILD_DIR   build directory                            (default ./build)
#   PATHWAY_PG_DIR      the local PostgreSQL cluster      (default <data dir>-postgres)
#   PATHWAY_PG_PORT     its port on 127.0.0.1                      (default 5433)
set -euo pipefail
database=sqlite
replicas=1
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database="${2:-}"; shift 2 ;;
    --database=*) database="${1#*=}"; shift ;;
    --replicas) replicas="${2:-}"; shift 2 ;;
    --replicas=*) replicas="${1#*=}"; shift ;;
    --tls) tls=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "up.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$database" in sqlite|postgres) ;; *)
  echo "up.sh: --database is sqlite or postgres" >&2; exit 2 ;;
esac
case "$replicas" in 1|2) ;; *) echo "up.sh: --replicas is 1 or 2" >&2; exit 2 ;; esac
if [ "$replicas" = 2 ] && [ "$database" != postgres ]; then
  # A SQLite file belongs to one process; replicas need a shared database.
  echo "up.sh: --replicas 2 needs --database postgres" >&2; exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash deploy/local/install-deps.sh

build_dir="${PATHWAY_BUILD_DIR:-$root/build}"
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
services=(registry community_detox compulsory_isolation community_rehab placement)
ports=(50051 50052 50053 50054 50055)
targets=(pathwayctl reconcile)
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

# People's tokens come from an identity provider, as in a deployment; here a
# development ES256 key pair stands in for it (made once: the private key in
# dev-jwt-key.pem, the published key set in dev-jwks.json). The shared key above
# signs only the services' own calls to each other.
jwt_key_file="$data_dir/dev-jwt-key.pem"
jwks_file="$data_dir/dev-jwks.json"
if [ ! -s "$jwt_key_file" ]; then
  "$ctl" token --role admin --jurisdiction '*' --jwt-key "$jwt_key_file" \
    --new-jwks "$jwks_file" > /dev/null
fi
idp_args=(--jwks_file "$jwks_file" --token_issuer pathway-dev --token_audience pathway)

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

db_args=()
if [ "$database" = postgres ]; then
  pg_dir="${PATHWAY_PG_DIR:-$data_dir-postgres}"
  pg_port="${PATHWAY_PG_PORT:-5433}"
  pg_pass_file="$data_dir/dev-postgres.pass"
  source "$root/deploy/local/postgres.sh"
  pg_up "$pg_dir" "$pg_port" "$pg_pass_file" "$data_dir/logs/postgres.log" "${services[@]}"
  pids+=("$pg_pid")
  db_args=(--database_password_file "$pg_pass_file")
fi

# Transport security: plaintext on loopback, or mutual TLS with development certificates.
tls_dir="$data_dir/dev-tls"
client_tls_env=()
if [ "$tls" = 1 ]; then
  bash "$root/deploy/local/dev-tls.sh" "$tls_dir" "${services[@]}" client
  client_tls_env=("PATHWAY_TLS_CA_FILE=$tls_dir/ca.pem" "PATHWAY_TLS_CERT_FILE=$tls_dir/client.pem"
    "PATHWAY_TLS_KEY_FILE=$tls_dir/client.key")
  export PATHWAY_TLS_CA_FILE="$tls_dir/ca.pem" PATHWAY_TLS_CERT_FILE="$tls_dir/client.pem"
  export PATHWAY_TLS_KEY_FILE="$tls_dir/client.key"
fi
# The TLS flags of service $1, into the array tls_args (paths may hold spaces).
set_tls_args() {
  if [ "$tls" = 1 ]; then
    tls_args=(--tls_cert_file "$tls_dir/$1.pem" --tls_key_file "$tls_dir/$1.key"
      --tls_ca_file "$tls_dir/ca.pem" --tls_require_client_cert)
  else
    tls_args=(--plaintext)
  fi
}

# Peers of a service: itself in every replica (round robin between them).
peer() {
  local port="$1"
  if [ "$replicas" = 2 ]; then echo "ipv4:127.0.0.1:$port,127.0.0.1:$((port + 100))"
  else echo "127.0.0.1:$port"; fi
}
peer_args=(--registry_addr "$(peer 50051)" --detox_addr "$(peer 50052)"
  --isolation_addr "$(peer 50053)" --rehab_addr "$(peer 50054)"
  --placement_addr "$(peer 50055)")

addrs=()
names=()
for r in $(seq 1 "$replicas"); do
  for i in "${!services[@]}"; do
    s="${services[$i]}"
    port=$((ports[i] + (r - 1) * 100))
    # Files of one replica (its audit anchor, SQLite's database) stay its own.
    dir="$data_dir"; [ "$r" -gt 1 ] && dir="$data_dir/replica$r" && mkdir -p "$dir"
    extra=()
    [ "$s" = registry ] && extra=(--pii_key_file "$pii_key_file")
    case "$s" in community_detox|community_rehab)
      extra=(--policy_file "$root/deploy/config/supervision.policy") ;;
    esac
    [ "$database" = postgres ] &&
      extra+=(--database "postgresql://pathway@127.0.0.1:$pg_port/$s")
    log="$data_dir/logs/$s.log"; [ "$r" -gt 1 ] && log="$data_dir/logs/$s.replica$r.log"
    set_tls_args "$s"
    "$build_dir/services/$s/${s}_server" \
      --port "$port" --data_dir "$dir" --redis_port "$redis_port" \
      --token_key_file "$key_file" --audit_key_file "$audit_key_file" "${tls_args[@]}" \
      "${idp_args[@]}" "${peer_args[@]}" "${db_args[@]}" "${extra[@]}" >> "$log" 2>&1 &
    pids+=($!)
    addrs+=("127.0.0.1:$port")
    names+=("$s")
  done
done

for i in "${!addrs[@]}"; do
  if ! "$ctl" health --addr "${addrs[$i]}" --wait 30s >/dev/null; then
    echo "${names[$i]} (${addrs[$i]}) did not become SERVING; see $data_dir/logs" >&2
    exit 1
  fi
done

token="$("$ctl" token --jwt-key "$jwt_key_file" --role admin --jurisdiction '*' --ttl 12h)"
echo
echo "Pathway is up (data in $data_dir, logs in $data_dir/logs)"
for i in "${!addrs[@]}"; do
  printf '  %-22s %s  SERVING\n' "${names[$i]}" "${addrs[$i]}"
done
printf '  %-22s 127.0.0.1:%s\n' "redis (status cache)" "$redis_port"
if [ "$database" = postgres ]; then
  printf '  %-22s 127.0.0.1:%s (cluster in %s)\n' "postgresql" "$pg_port" "$pg_dir"
fi
echo
echo "Development token (admin, national, 12 h):"
echo "  $token"
echo "Others: $ctl token --jwt-key $jwt_key_file --role caseworker --jurisdiction 520102"
if [ "$tls" = 1 ]; then
  echo
  echo "Every port speaks mutual TLS. Clients (pathwayctl, the reconciler) need:"
  echo "  export ${client_tls_env[*]}"
fi
echo
echo "Ctrl-C stops everything."

# Wait for a signal. Redis may be stopped on purpose (the services keep serving
# without it, DESIGN.md §4); if a service dies, stop the rest.
while true; do
  exited=""
  wait -n -p exited "${pids[@]}" || true
  if [ "$database" = postgres ] && [ "${exited:-}" = "$pg_pid" ]; then
    echo "postgresql stopped; writes answer UNAVAILABLE until it is back."
    echo "  start it again: deploy/local/up.sh restarts everything"
    remaining=()
    for pid in "${pids[@]}"; do [ "$pid" != "$pg_pid" ] && remaining+=("$pid"); done
    pids=("${remaining[@]}")
    continue
  fi
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
