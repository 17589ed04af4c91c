#!/bin/sh
# Start Redis with the password from CELERY_BROKER_PASSWORD, handed over on stdin (never
# on disk, never in the process arguments). Refuses to start without one.
set -eu
die() { echo "celery-broker: $*" >&2; exit 1; }

[ -n "${CELERY_BROKER_PASSWORD:-}" ] \
  || die "set CELERY_BROKER_PASSWORD in .env (make env writes a random one)"
# It is also the password part of the workers' redis:// URL: URL-safe characters only.
echo "$CELERY_BROKER_PASSWORD" | grep -Eq '^[A-Za-z0-9._~-]{16,}$' \
  || die "CELERY_BROKER_PASSWORD must be 16 or more of A-Z a-z 0-9 . _ ~ - (make env writes one)"
case "$CELERY_BROKER_PASSWORD" in
  change-me*) echo "celery-broker: WARNING: CELERY_BROKER_PASSWORD is the published placeholder (make env writes a random one)" >&2 ;;
esac

password=$CELERY_BROKER_PASSWORD
unset CELERY_BROKER_PASSWORD
# A here-document (a pipe in dash), so redis-server is exec'd and gets the stop signal.
exec redis-server /etc/redis/broker.conf - <<CONF
requirepass "$password"
CONF
