#!/bin/sh
# Start nginx for the UI, in front of the gateway: fill the host allowlist into the config
# and choose HTTP or HTTPS, all in /tmp/nginx (a tmpfs; the root filesystem is read-only).
#   * DAGSTER_UI_TLS=auto (the default): plain HTTP when DAGSTER_BIND_ADDRESS is loopback
#     (127.x, ::1, localhost) and no certificate is named, HTTPS otherwise; `on`: HTTPS
#     always; `off`: HTTP, beyond loopback only with DAGSTER_ALLOW_PLAIN_HTTP=1.
#   * HTTPS uses the certificate and key compose mounts at $NAMED_CERT / $NAMED_KEY (from
#     DAGSTER_TLS_CERT_FILE / DAGSTER_TLS_KEY_FILE; /dev/null when not named), else a
#     self-signed one kept in $SELF_SIGNED (a volume), made again only when it is missing,
#     expires within a week, or was made for other host names.
set -eu
die() { echo "proxy: $*" >&2; exit 1; }
NAMED_CERT=/etc/dagster-tls/cert.pem
NAMED_KEY=/etc/dagster-tls/key.pem
SELF_SIGNED=/var/lib/dagster-proxy/tls

# Hosts the UI answers to: localhost and 127.0.0.1 always, the bind address unless it is
# a wildcard, and DAGSTER_UI_HOSTS (comma or space separated names or IPv4 addresses).
bind="${DAGSTER_BIND_ADDRESS:-127.0.0.1}"
hosts="localhost 127.0.0.1"
case "$bind" in
  0.0.0.0) ;;
  *) hosts="$hosts $bind" ;;
esac
hosts="$hosts $(echo "${DAGSTER_UI_HOSTS:-}" | tr ',' ' ')"
names="" regex="" san=""
for host in $(printf '%s\n' $hosts | awk '!seen[$0]++'); do   # each name once
  echo "$host" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' \
    || die "'$host' in DAGSTER_UI_HOSTS / DAGSTER_BIND_ADDRESS is not a host name or IPv4 address"
  names="$names $host"
  regex="${regex:+$regex|}$(echo "$host" | sed 's/\./\\\\./g')"   # \\. survives the sed below
  if echo "$host" | grep -Eq '^[0-9.]+$'; then san="${san:+$san,}IP:$host"; else san="${san:+$san,}DNS:$host"; fi
done

# A certificate is named when compose mounted a file instead of /dev/null.
named() {  # PATH VARIABLE
  if [ -c "$1" ] || [ ! -e "$1" ]; then return 1; fi
  [ -f "$1" ] || die "$2 names no file on the host (docker then makes an empty directory there: remove it and correct $2 in .env)"
  [ -r "$1" ] || die "$2: the proxy (uid $(id -u)) cannot read it; on the host: chgrp $(id -g) FILE && chmod 640 FILE"
}
key_of() { openssl pkey -in "$1" -passin pass: -pubout 2>/dev/null; }
cert_key() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }
cert=""
if named "$NAMED_CERT" DAGSTER_TLS_CERT_FILE; then
  named "$NAMED_KEY" DAGSTER_TLS_KEY_FILE || die "DAGSTER_TLS_CERT_FILE is set but DAGSTER_TLS_KEY_FILE is not: name both in .env"
  cert_key "$NAMED_CERT" >/dev/null || die "DAGSTER_TLS_CERT_FILE is not a PEM certificate"
  [ -n "$(key_of "$NAMED_KEY")" ] || die "DAGSTER_TLS_KEY_FILE is not an unencrypted PEM private key"
  [ "$(key_of "$NAMED_KEY")" = "$(cert_key "$NAMED_CERT")" ] \
    || die "DAGSTER_TLS_KEY_FILE is not the key of DAGSTER_TLS_CERT_FILE"
  openssl x509 -in "$NAMED_CERT" -noout -checkend 0 >/dev/null \
    || echo "proxy: WARNING: the certificate DAGSTER_TLS_CERT_FILE has expired: browsers will refuse it" >&2
  cert=$NAMED_CERT key=$NAMED_KEY
elif named "$NAMED_KEY" DAGSTER_TLS_KEY_FILE; then
  die "DAGSTER_TLS_KEY_FILE is set but DAGSTER_TLS_CERT_FILE is not: name both in .env"
fi

case "$bind" in
  127.*|::1|\[::1\]|localhost) loopback=1 ;;
  *) loopback=0 ;;
esac
case "${DAGSTER_ALLOW_PLAIN_HTTP:-0}" in
  0|1) ;;
  *) die "DAGSTER_ALLOW_PLAIN_HTTP must be 0 or 1 (got '${DAGSTER_ALLOW_PLAIN_HTTP}')" ;;
esac
case "${DAGSTER_UI_TLS:-auto}" in
  auto) if [ "$loopback" = 1 ] && [ -z "$cert" ]; then scheme=http; else scheme=https; fi ;;
  on) scheme=https ;;
  off)
    scheme=http
    [ -z "$cert" ] || die "DAGSTER_UI_TLS=off, yet DAGSTER_TLS_CERT_FILE names a certificate: drop one of the two from .env"
    [ "$loopback" = 1 ] || [ "${DAGSTER_ALLOW_PLAIN_HTTP:-0}" = 1 ] || die "refusing plain HTTP on" \
      "DAGSTER_BIND_ADDRESS=$bind: logins and session cookies would cross the network in clear text." \
      "Remove DAGSTER_UI_TLS=off from .env to serve HTTPS (self-signed, or name your certificate in" \
      "DAGSTER_TLS_CERT_FILE / DAGSTER_TLS_KEY_FILE), or, only when TLS ends in front of this host" \
      "(a load balancer), set DAGSTER_ALLOW_PLAIN_HTTP=1 in .env."
    ;;
  *) die "DAGSTER_UI_TLS must be auto, on or off (got '${DAGSTER_UI_TLS}')" ;;
esac
[ "$scheme" = http ] || [ "$loopback" = 1 ] || [ "${DAGSTER_ALLOW_PLAIN_HTTP:-0}" = 0 ] \
  || echo "proxy: note: DAGSTER_ALLOW_PLAIN_HTTP=1 has no effect: the UI is served over HTTPS" >&2

# The self-signed certificate: kept while it is whole (the key is the certificate's),
# valid for another week, and made for these host names.
self_signed_ok() {
  [ -s "$SELF_SIGNED/cert.pem" ] && [ -s "$SELF_SIGNED/key.pem" ] \
    && [ "$(cat "$SELF_SIGNED/hosts" 2>/dev/null)" = "$san" ] \
    && openssl x509 -in "$SELF_SIGNED/cert.pem" -noout -checkend 604800 >/dev/null 2>&1 \
    && [ "$(key_of "$SELF_SIGNED/key.pem")" = "$(cert_key "$SELF_SIGNED/cert.pem")" ]
}
mkdir -p -m 700 /tmp/nginx
if [ "$scheme" = https ] && [ -z "$cert" ]; then
  cert=$SELF_SIGNED/cert.pem key=$SELF_SIGNED/key.pem
  if ! self_signed_ok; then
    [ -w "$SELF_SIGNED" ] || die "$SELF_SIGNED is not writable: mount the proxy-tls volume there" \
      "(docker-compose.yml), or name a certificate in DAGSTER_TLS_CERT_FILE / DAGSTER_TLS_KEY_FILE"
    cat >/tmp/nginx/openssl.cnf <<EOF
[req]
prompt = no
distinguished_name = name
x509_extensions = server
[name]
CN = dagster-ui self-signed
[server]
subjectAltName = $san
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
EOF
    (umask 077 && openssl req -x509 -config /tmp/nginx/openssl.cnf -newkey ec \
      -pkeyopt ec_paramgen_curve:P-256 -nodes -days 397 \
      -keyout "$SELF_SIGNED/key.pem.new" -out "$SELF_SIGNED/cert.pem.new" 2>/dev/null) \
      || die "openssl could not make a self-signed certificate in $SELF_SIGNED"
    mv "$SELF_SIGNED/key.pem.new" "$SELF_SIGNED/key.pem"
    mv "$SELF_SIGNED/cert.pem.new" "$SELF_SIGNED/cert.pem"
    printf '%s' "$san" >"$SELF_SIGNED/hosts"
    echo "proxy: made a self-signed certificate for $san"
  fi
fi

if [ "$scheme" = https ]; then
  drop='# @http$' keep='# @https$'
  echo "proxy: HTTPS; certificate $(openssl x509 -in "$cert" -noout -fingerprint -sha256)," \
    "valid until $(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)"
else
  drop='# @https$' keep='# @http$' cert=/dev/null key=/dev/null
  echo "proxy: plain HTTP"
fi
sed -e "/$drop/d" -e "s/  *$keep//" -e "s|@TLS_CERT@|$cert|" -e "s|@TLS_KEY@|$key|" \
  -e "s|@SERVER_NAMES@|${names# }|" -e "s#@HOSTS_REGEX@#${regex}#" \
  /etc/nginx/dagster.conf.template >/tmp/nginx/nginx.conf
echo "proxy: allowed hosts:${names}"
exec nginx -c /tmp/nginx/nginx.conf -e stderr -g 'daemon off;'
