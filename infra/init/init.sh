#!/bin/sh
# One-shot `init` job (user-code image): Postgres roles and databases, Dagster's schema
# migration, then the warehouse seed. Every step is idempotent, so the job runs on every
# `docker compose up` and the long-running services wait for it to succeed.
set -eu

echo "init: [1/3] postgres roles and databases"
python /opt/dagster/infra/init/bootstrap_postgres.py

echo "init: [2/3] dagster instance migrate"
dagster instance migrate

echo "init: [3/3] seed the warehouse"
python -m user_code.sample_data seed-warehouse

echo "init: done"
