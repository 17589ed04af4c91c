#!/bin/sh
# `dagster instance migrate` as the schema owner (DAGSTER_PG_MIGRATION_USER): every other
# service connects as the runtime role, which may read and write rows but not change the
# schema. Used by init.sh and `make migrate`.
set -eu
echo "init: dagster instance migrate as ${DAGSTER_PG_MIGRATION_USER:?}"
DAGSTER_PG_USER="$DAGSTER_PG_MIGRATION_USER" DAGSTER_PG_PASSWORD="${DAGSTER_PG_MIGRATION_PASSWORD:?}" \
  exec dagster instance migrate
