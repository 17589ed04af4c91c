# Entry points of the project. `make help` lists them.
#   make up      the Docker stack (writes .env with random secrets first: `make env`)
#   make test    the test command: unit + end-to-end (e2e skip without a Docker engine)
#   make dev     embedded local mode: `dagster dev`, no Docker/Postgres/MinIO
#   make bench   benchmarks/RESULTS.md (throughput + stack figures; the stack is torn down after)

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= $(VENV)/bin/python
COMPOSE ?= docker compose
LOCAL_DATA_DIR ?= .local_data
LOCAL_DAGSTER_HOME := $(abspath $(LOCAL_DATA_DIR))/dagster_home
DEV_PORT ?= 3000
RUN_LABEL := io.dagster-platform.role=run-worker
BACKUP_ROOT := $(LOCAL_DATA_DIR)/backups
BACKUP_STAMP := $(shell date -u +%Y%m%dT%H%M%SZ)


.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

.PHONY: venv
venv: $(VENV)/.installed ## create .venv with the pinned dev requirements (installs only when a requirements or pyproject file changed)

# The stamp: `make dev` and `make test` start without pip when nothing changed.
$(VENV)/.installed: requirements/*.txt pyproject.toml user_code/*/pyproject.toml
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements/dev.txt -c requirements/constraints.txt
	$(VENV)/bin/pip install -q --no-deps $(foreach project,. $(wildcard user_code/*),-e $(project))  # the library and every location, importable from anywhere
	touch $@

.env:
	python3 infra/env/make_env.py .env.example .env

.PHONY: env
env: ## write .env from .env.example with random secrets, mode 0600; an existing .env only gains the settings it lacks
	python3 infra/env/make_env.py .env.example .env

# --- Docker stack --------------------------------------------------------------------
.PHONY: up
up: .env ## build and start the stack, wait until every service is healthy (UI: http://127.0.0.1:3000)
	$(COMPOSE) up -d --build --wait

.PHONY: down
down: ## stop the stack, keep the data (volumes)
	$(COMPOSE) down

.PHONY: ps
ps: ## service status and health
	$(COMPOSE) ps

.PHONY: logs
logs: ## follow the logs of every service (SERVICE=daemon for one)
	$(COMPOSE) logs -f --tail 200 $(SERVICE)

.PHONY: new-location
new-location: ## scaffold a code location NAME=inventory: package, example asset + test, image, service, workspace entry
	@test -n "$(NAME)" || { echo "usage: make new-location NAME=<name> (lowercase, digits, _)"; exit 2; }
	python3 tooling/new_location.py $(NAME)

# One code location's compose service: `<location>-code` (underscores as dashes), except the
# first location's, which kept its name from before there were several.
LOCATION ?= orders_and_sales
LOCATION_SERVICE_orders_and_sales := user-code
.PHONY: deploy
deploy: ## rebuild one location's image and replace its code server alone (LOCATION=orders_and_sales); the UI picks the new code up
	@test -d user_code/$(LOCATION) || { echo "no code location user_code/$(LOCATION) (LOCATION=one of: $(notdir $(wildcard user_code/*)))"; exit 2; }
	$(COMPOSE) --profile scale up -d --build --no-deps --wait $(or $(LOCATION_SERVICE_$(LOCATION)),$(subst _,-,$(LOCATION))-code)

# --- people (docs/security.md): accounts live in Postgres and take effect at once -------
# Each runs the gateway's command line in its container (`docker compose exec gateway python
# -m dagster_platform.access ...` is the same without make). A password is read from standard
# input (`make user NAME=alice ROLE=viewer < file`); on a terminal it is asked for; with none,
# a new account gets a generated one, printed once.
ACCESS_CLI = $(COMPOSE) exec $$( [ -t 0 ] || echo -T ) gateway python -m dagster_platform.access
.PHONY: user
user: ## create or change an account: NAME=alice ROLE=viewer|launcher|admin [LOCATIONS=a,b (launchers)]; DELETE=1 removes it
	@test -n "$(NAME)" || { echo "usage: make user NAME=<name> ROLE=viewer|launcher|admin [LOCATIONS=orders_and_sales] | make user NAME=<name> DELETE=1"; exit 2; }
	@$(ACCESS_CLI) user "$(NAME)" $(if $(ROLE),--role "$(ROLE)") $(if $(LOCATIONS),--locations "$(LOCATIONS)") $(if $(DELETE),--delete)

.PHONY: users
users: ## list the accounts and their roles
	@$(ACCESS_CLI) users

.PHONY: token
token: ## a new API token for NAME=alice, shown once (REVOKE=<id>|all revokes)
	@test -n "$(NAME)" || { echo "usage: make token NAME=<name> [REVOKE=<id>|all]"; exit 2; }
	@$(ACCESS_CLI) token "$(NAME)" $(if $(REVOKE),--revoke "$(REVOKE)")

.PHONY: audit
audit: ## the newest entries of the audit trail (LIMIT=50): logins, refusals, every mutation
	@$(ACCESS_CLI) audit --limit $(or $(LIMIT),50)

# The Kubernetes deployment's images (infra/k8s/README.md): one per user deployment of the
# Helm values, each the compose image's `location` stage, code and command, tagged K8S_TAG.
# orders_and_sales adds dagster-k8s (requirements/user-code-k8s.txt): its runs are Kubernetes
# Jobs of its image; platform launches no runs and is built as compose builds it.
K8S_TAG ?= local-k8s
.PHONY: image-k8s
image-k8s: ## build the images of the Kubernetes deployment: orders_and_sales (with dagster-k8s) and platform, tagged :local-k8s (K8S_TAG=)
	docker build --target location --build-arg LOCATION=orders_and_sales --build-arg USER_CODE_EXTRAS=k8s -t dagster-platform/user-code:$(K8S_TAG) .
	docker build --target location --build-arg LOCATION=platform --build-arg PACKAGE=platform_ops -t dagster-platform/platform:$(K8S_TAG) .

.PHONY: pins
pins: venv ## report the pins of requirements/constraints.txt that are behind their newest release (asks the package index)
	$(PYTHON) -m tooling.pins

.PHONY: migrate
migrate: ## run `dagster instance migrate` as the schema owner (after upgrading Dagster; init also does it on every up)
	$(COMPOSE) run --rm --no-deps init sh /opt/dagster/infra/init/migrate.sh

# A sensor's state (running or not, cursor) belongs to its location's name: after an upgrade
# that moved sensors to another location (MOVES in tooling/migrate_sensors.py), this carries
# their state over through the webserver's GraphQL API. Idempotent. docs/operations.md.
.PHONY: migrate-sensors
migrate-sensors: venv ## after an upgrade that moved sensors between locations: carry their cursor and status over (UI_URL=another webserver)
	$(PYTHON) -m tooling.migrate_sensors$(if $(UI_URL), --url '$(UI_URL)')

# Backups: both databases (pg_dump -Fc: the instance DB with the run history, and the
# warehouse DB with schema `orders`, the ledger) and the bucket (a one-shot container of
# the MinIO image, with MinIO's root credentials) go to one directory. See docs/operations.md, Back up and restore.
.PHONY: backup
backup: ## back up the instance DB, the warehouse DB and the bucket to .local_data/backups/<UTC time>/ (or BACKUP=dir)
	@set -eu; dir="$(or $(BACKUP),$(BACKUP_ROOT)/$(BACKUP_STAMP))"; \
	test ! -e "$$dir" || { echo "$$dir exists: choose another BACKUP=dir"; exit 2; }; \
	mkdir -p "$$dir.partial/bucket"; part="$$(cd "$$dir.partial" && pwd)"; \
	$(COMPOSE) exec -T postgres sh -c 'pg_dump -U "$$POSTGRES_USER" -Fc "$$DAGSTER_PG_DB"' > "$$part/instance.dump"; \
	$(COMPOSE) exec -T postgres sh -c 'pg_dump -U "$$POSTGRES_USER" -Fc "$$WAREHOUSE_DB_NAME"' > "$$part/warehouse.dump"; \
	$(COMPOSE) run --rm --no-deps -T -v "$$part/bucket:/backup" --entrypoint /bin/sh minio-init -c \
	  'mc alias set store http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD" >/dev/null && mc cp -r "store/$$S3_BUCKET/" /backup/' >/dev/null; \
	mv "$$part" "$$dir"; echo "wrote $$dir"

# One database replaced by a dump on stdin (the database's NAME variable as argument): a new,
# empty database, then the whole dump in one transaction. Not `pg_restore --clean`: it drops
# what init just made in the dump's order, which breaks on a column default whose sequence
# goes first. init, which `up` runs again afterwards, gives the database its owner and grants.
RESTORE_DB = $(COMPOSE) exec -T postgres sh -c 'db=$$(printenv "$$0") \
  && psql -v ON_ERROR_STOP=1 -q -U "$$POSTGRES_USER" -d postgres \
       -c "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)" -c "CREATE DATABASE \"$$db\"" \
  && pg_restore -U "$$POSTGRES_USER" --single-transaction -d "$$db"'
.PHONY: restore
restore: ## restore BACKUP=dir (both databases + the bucket; also onto a fresh stack after `make reset`)
	@test -f "$(BACKUP)/instance.dump" -a -f "$(BACKUP)/warehouse.dump" -a -d "$(BACKUP)/bucket" \
	  || { echo "usage: make restore BACKUP=.local_data/backups/<UTC time>"; exit 2; }
	$(COMPOSE) stop gateway webserver webserver-readonly daemon user-code platform-code
	@# init creates the roles, databases and bucket (a fresh stack has none), then both dumps
	@# replace the databases (objects' owners as dumped) and the bucket's objects come back,
	@# in single-part uploads: an object's ETag is then its MD5 again, as when it was first
	@# uploaded in one part, so file_sensor does not take restored files for new versions.
	$(COMPOSE) up -d --wait init
	$(RESTORE_DB) DAGSTER_PG_DB < "$(BACKUP)/instance.dump"
	$(RESTORE_DB) WAREHOUSE_DB_NAME < "$(BACKUP)/warehouse.dump"
	$(COMPOSE) run --rm --no-deps -T -v "$(abspath $(BACKUP))/bucket:/backup:ro" --entrypoint /bin/sh minio-init -c \
	  'mc alias set store http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD" >/dev/null && mc cp -r --disable-multipart /backup/ "store/$$S3_BUCKET/"' >/dev/null
	$(COMPOSE) up -d --wait

.PHONY: clean-runs
clean-runs: ## remove the exited run containers the DockerRunLauncher left behind
	docker ps -aq --filter label=$(RUN_LABEL) --filter status=exited | xargs -r docker rm

.PHONY: reset
reset: ## DESTROY everything: containers, volumes (instance DB, warehouse, lake), run containers
	@# Run containers first (the daemon stopped, so it launches no more): a running one is
	@# attached to the stack's network, and `down` then fails before removing the volumes.
	$(COMPOSE) stop daemon
	docker ps -aq --filter label=$(RUN_LABEL) | xargs -r docker rm -f
	$(COMPOSE) down -v --remove-orphans

# Maintenance mode (docs/operations.md): the daemon stopped, which holds the run queue
# (Dagster has no switch for it), then every schedule and sensor stopped through the UI's
# GraphQL API as the .env account (tooling/maintenance.py saves their states first). In that
# order, and the reverse on resume, so no sensor tick in flight writes a state back. `status`
# first: an unreachable UI or a wrong password changes nothing. The daemon is started alone
# (--no-deps: the rest of the stack is running, init is not re-run). Each step stops make
# when it fails; running the target again completes it.
.PHONY: pause
pause: venv ## maintenance mode: stop the daemon (queued runs wait), then every schedule and sensor (states saved)
	$(PYTHON) -m tooling.maintenance status >/dev/null
	$(COMPOSE) stop daemon
	$(PYTHON) -m tooling.maintenance pause

.PHONY: resume
resume: venv ## end maintenance mode: restore every schedule's and sensor's saved state, then start the daemon
	$(PYTHON) -m tooling.maintenance resume
	$(COMPOSE) up -d --wait --no-deps daemon

# --- tests ---------------------------------------------------------------------------
.PHONY: test
test: venv ## unit tests (in parallel, while the images build), then the stack tests (e2e skip without a Docker engine)
	PYTHON=$(PYTHON) bash tooling/test.sh

.PHONY: lint
lint: venv ## ruff (lint and format check), mypy (types) and `dg check defs` in every code location; .ci/run runs it
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@for project in user_code/*/; do \
	  echo "dg check defs: $$project"; (cd $$project && DAGSTER_DEPLOYMENT=local $(abspath $(VENV))/bin/dg check defs) || exit 1; \
	done

.PHONY: test-unit
test-unit: venv ## unit tests only (no Docker)
	$(PYTHON) -m pytest -m "not e2e and not faults" -n $${TEST_WORKERS:-auto}

.PHONY: test-faults
test-faults: venv ## fault-injection tests only (tests/faults/: kill, restart, pause services), failing if Docker is missing
	$(PYTHON) -m pytest -m faults --require-e2e

.PHONY: test-e2e
test-e2e: venv ## e2e tests only, failing if Docker is missing
	$(PYTHON) -m pytest -m e2e --require-e2e

# --- benchmarks ----------------------------------------------------------------------
.PHONY: bench
bench: venv ## every benchmark (throughput, then the stack figures on a stack it brings up and tears down): benchmarks/RESULTS.md
	$(PYTHON) -m benchmarks

# --- embedded local mode -------------------------------------------------------------
.PHONY: dev
dev: sample-orders ## `dagster dev` with local resources (SQLite warehouse, folder lake) on 127.0.0.1:$(DEV_PORT)
	@mkdir -p $(LOCAL_DAGSTER_HOME)
	@cp infra/local/dagster.yaml infra/local/workspace.yaml $(LOCAL_DAGSTER_HOME)/
	@# Seeding is this explicit step: loading the definitions writes nothing.
	@LOCAL_DATA_DIR=$(abspath $(LOCAL_DATA_DIR)) $(PYTHON) -m orders_and_sales.sample_data seed-local
	@echo "drop an orders file: cp $(LOCAL_DATA_DIR)/samples/orders.csv $(LOCAL_DATA_DIR)/lake/incoming/orders/\$$(date +%Y%m%dT%H%M%S).csv"
	@# Started from DAGSTER_HOME, not from here: `dagster dev` loads ./.env (the Docker
	@# stack's settings, DAGSTER_DEPLOYMENT=docker included) over the environment.
	cd $(LOCAL_DAGSTER_HOME) && exec env DAGSTER_DEPLOYMENT=local LOCAL_DATA_DIR=$(abspath $(LOCAL_DATA_DIR)) \
		DAGSTER_HOME=$(LOCAL_DAGSTER_HOME) \
		$(abspath $(PYTHON)) $(abspath tooling/dev.py) -w $(LOCAL_DAGSTER_HOME)/workspace.yaml -h 127.0.0.1 -p $(DEV_PORT)

.PHONY: sample-orders
sample-orders: venv ## write a sample (slightly dirty) orders CSV to .local_data/samples/orders.csv
	@mkdir -p $(LOCAL_DATA_DIR)/lake/incoming/orders $(LOCAL_DATA_DIR)/samples
	$(PYTHON) -m orders_and_sales.sample_data orders-csv --rows 1000 --dirty-fraction 0.05 --out $(LOCAL_DATA_DIR)/samples/orders.csv

.PHONY: clean-local
clean-local: ## delete the local mode's data (.local_data/)
	rm -rf $(LOCAL_DATA_DIR)
