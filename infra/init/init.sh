#!/bin/sh
# One-shot `init` job (user-code image): refuse placeholder secrets on a published stack,
# Postgres roles and databases, Dagster's schema migration, the accounts tables, then the
# warehouse seed. Every
# step is idempotent, so the job runs on every `docker compose up` and the long-running
# services wait for it to succeed.
set -eu

echo "init: [1/5] secrets"
python /opt/dagster/infra/init/check_secrets.py

echo "init: [2/5] postgres roles and databases"
python /opt/dagster/infra/init/bootstrap_postgres.py

echo "init: [3/5] dagster instance migrate"
sh /opt/dagster/infra/init/migrate.sh

echo "init: [4/5] accounts tables (the gateway's schema platform_access)"
python -m dagster_platform.access init

echo "init: [5/5] seed the warehouse"
python -m orders_and_sales.sample_data seed-warehouse

echo "init: done"
