#!/bin/sh
# Start nginx for the UI: hash DAGSTER_UI_PASSWORD into an htpasswd file and fill the
# host allowlist into the config, both in /tmp/nginx (a tmpfs; the root filesystem is
# read-only). The plain password is never written anywhere, nor passed on to nginx.
set -eu
die() { echo "proxy: $*" >&2; exit 1; }

: "${DAGSTER_UI_USER:?proxy: set DAGSTER_UI_USER in .env (make env writes one)}"
: "${DAGSTER_UI_PASSWORD:?proxy: set DAGSTER_UI_PASSWORD in .env (make env writes a random one)}"
echo "$DAGSTER_UI_USER" | grep -Eq '^[A-Za-z0-9._-]+$' \
  || die "DAGSTER_UI_USER may hold only letters, digits, '.', '_' and '-'"

# Hosts the UI answers to: localhost and 127.0.0.1 always, the bind address unless it is
# a wildcard, and DAGSTER_UI_HOSTS (comma or space separated names or IPv4 addresses).
hosts="localhost 127.0.0.1"
case "${DAGSTER_BIND_ADDRESS:-127.0.0.1}" in
  0.0.0.0|"") ;;
  *) hosts="$hosts ${DAGSTER_BIND_ADDRESS}" ;;
esac
hosts="$hosts $(echo "${DAGSTER_UI_HOSTS:-}" | tr ',' ' ')"
names="" regex=""
for host in $(printf '%s\n' $hosts | awk '!seen[$0]++'); do   # each name once
  echo "$host" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' \
    || die "'$host' in DAGSTER_UI_HOSTS / DAGSTER_BIND_ADDRESS is not a host name or IPv4 address"
  names="$names $host"
  regex="${regex:+$regex|}$(echo "$host" | sed 's/\./\\\\./g')"   # \\. survives the sed below
done

mkdir -p -m 700 /tmp/nginx
printf '%s' "$DAGSTER_UI_PASSWORD" | openssl passwd -5 -stdin \
  | sed "s|^|${DAGSTER_UI_USER}:|" >/tmp/nginx/htpasswd
grep -q ':\$5\$' /tmp/nginx/htpasswd || die "could not hash DAGSTER_UI_PASSWORD (openssl passwd failed)"
sed -e "s|@SERVER_NAMES@|${names# }|" -e "s#@HOSTS_REGEX@#${regex}#" \
  /etc/nginx/dagster.conf.template >/tmp/nginx/nginx.conf
echo "proxy: UI user ${DAGSTER_UI_USER}; allowed hosts:${names}"
exec env -u DAGSTER_UI_PASSWORD nginx -c /tmp/nginx/nginx.conf -e stderr -g 'daemon off;'
