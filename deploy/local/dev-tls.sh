#!/usr/bin/env bash
# Makes a development certificate authority and one certificate per name, for
# running Pathway with TLS and mutual TLS on one host (deploy/local/up.sh --tls, and
# the tests that run the binaries over TLS). A deployment gets its certificates from
# its own CA instead; see README "TLS".
#
#   deploy/local/dev-tls.sh <dir> registry community_detox ... client
#
# Writes <dir>/ca.pem (the CA certificate; its key stays in <dir>/ca.key) and, for
# each name, <dir>/<name>.pem and <dir>/<name>.key: an EC P-256 key and a
# certificate with CN=<name>, valid for 127.0.0.1 and localhost, for both server
# and client use (a service presents the same certificate on its port and to its
# peers). Existing files are kept, so a second run adds only new names. Keys are
# mode 0600.
set -euo pipefail
if [ "$#" -lt 1 ]; then
  echo "usage: $0 <dir> [name...]" >&2
  exit 2
fi
dir="$1"; shift
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
days=825
if [ ! -s "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -days "$days" \
    -subj "/CN=Pathway development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
ext="$(mktemp)"
trap 'rm -f "$ext" "$dir"/*.csr' EXIT
cat > "$ext" <<'CONF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
CONF
for name in "$@"; do
  case "$name" in *[!A-Za-z0-9_.-]*|"") echo "$0: bad name '$name'" >&2; exit 2 ;; esac
  [ -s "$dir/$name.pem" ] && continue
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/$name.pem" -days "$days" -extfile "$ext" 2>/dev/null
done
chmod 644 "$dir/ca.pem" "$dir"/*.pem
