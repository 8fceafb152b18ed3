# A local PostgreSQL 15 for development (sourced by up.sh; tests start their own,
# common/store/testing_postgres.h). Defines pg_up, which sets pg_pid.
#
#   pg_up <cluster dir> <port> <password file> <log file> <database>...
#
# Makes the cluster once (initdb), starts it on 127.0.0.1:<port> and a unix socket
# in the cluster directory, and makes sure role `pathway` (password in <password
# file>, libpq's format, mode 0600; made once at random) owns one database per name
# given. The superuser `postgres` is reached only through the socket (trust);
# TCP needs the password (scram-sha-256). initdb and postgres refuse root: as root
# they run as the `postgres` user that Debian's package creates.

pg_bin=/usr/lib/postgresql/15/bin

pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

pg_psql() {
  "$pg_bin/psql" -X -q -h "$pg_dir_abs" -p "$pg_port_in" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 "$@"
}

pg_up() {
  local dir="$1" port="$2" pass_file="$3" log="$4"
  shift 4
  mkdir -p "$dir"
  pg_dir_abs="$(cd "$dir" && pwd)"
  pg_port_in="$port"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pg_dir_abs"
  chmod 700 "$pg_dir_abs"
  if [ ! -s "$pg_dir_abs/PG_VERSION" ]; then
    pg_as_owner "$pg_bin/initdb" -D "$pg_dir_abs" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >> "$log" 2>&1
  fi
  # Started directly (not through a function, which would fork a shell between),
  # so pg_pid is the postmaster itself: SIGTERM/SIGINT reach it.
  local server=("$pg_bin/postgres" -D "$pg_dir_abs" -p "$port" -k "$pg_dir_abs"
    -c listen_addresses=127.0.0.1)
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "${server[@]}" >> "$log" 2>&1 &
  else
    "${server[@]}" >> "$log" 2>&1 &
  fi
  pg_pid=$!
  local tries=0
  until "$pg_bin/pg_isready" -q -h "$pg_dir_abs" -p "$port" -U postgres; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$pg_pid" 2>/dev/null; then
      echo "postgresql did not start; see $log" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ ! -s "$pass_file" ]; then
    local password
    password="$(head -c 24 /dev/urandom | base64 -w0 | tr -d '/+=')"
    (umask 077 && echo "127.0.0.1:$port:*:pathway:$password" > "$pass_file")
  fi
  local password
  password="$(cut -d: -f5- "$pass_file")"
  # The password goes to the server on stdin, never in an argument list.
  pg_psql <<SQL
\set pw '$password'
SELECT format('CREATE ROLE pathway LOGIN PASSWORD %L', :'pw')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pathway') \gexec
SELECT format('ALTER ROLE pathway PASSWORD %L', :'pw') \gexec
SQL
  local db
  for db in "$@"; do
    if [ -z "$(pg_psql -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      pg_psql -c "CREATE DATABASE $db OWNER pathway"
    fi
  done
}
