# Dagster images for the compose stack. One file, two images, each with only what it runs:
#   dagster    webserver, daemon and the access gateway: dagster + webserver/GraphQL +
#              postgres/docker/aws integrations + argon2/httpx (the gateway); no
#              pandas/pyarrow (the code location never runs there)
#   user-code-base  what every code location's image starts FROM: dagster + integrations +
#              pandas/pyarrow + the platform library (dagster_platform), no location code
#   location   one code location (--build-arg LOCATION=<folder of user_code/>): its gRPC
#              code server, and every run container of it (orders_and_sales' image also
#              runs the init job; scale's the Celery workers). `--build-arg USER_CODE_EXTRAS=k8s`
#              adds dagster-k8s, for the Kubernetes deployment (infra/k8s/; `make image-k8s`)
# Each venv is built in its own builder stage (requirements/<image>.txt, versions from
# requirements/constraints.txt), slimmed by infra/docker/slim-venv.sh (test suites, headers,
# Arrow Flight, unused botocore models, source maps) and byte-compiled, so no container
# compiles modules at start. Both images share the `runtime` stage (user, directories).
# Plain Dockerfile syntax only (no BuildKit features): it builds with the legacy builder.
# No secret is passed at build time; every credential arrives as a run-time env var.
# `io.dagster-platform.build` marks every stage, so `docker image prune --filter label=...`
# finds this project's intermediate images (the benchmarks' cold build uses it).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# '' (compose) or k8s: which venv the code location images get (stage venv-user-code).
ARG USER_CODE_EXTRAS=

FROM ${PYTHON_IMAGE} AS builder
LABEL io.dagster-platform.build=1
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/base.txt requirements/dagster.txt requirements/user-code.txt requirements/constraints.txt /tmp/requirements/
COPY infra/docker/slim-venv.sh /usr/local/bin/slim-venv

# Wheels only: a missing wheel fails the build instead of pulling in a compiler.
FROM builder AS venv-dagster
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --only-binary=:all: \
        -r /tmp/requirements/dagster.txt -c /tmp/requirements/constraints.txt \
 && sh /usr/local/bin/slim-venv /opt/venv \
 && /opt/venv/bin/python -c "import dagster, dagster_webserver, dagster_graphql, dagster_postgres, dagster_docker, dagster_aws, psycopg2, boto3, argon2, httpx, websockets, uvicorn; boto3.client('s3', region_name='us-east-1')" \
 && rm -rf /root/.cache

FROM builder AS venv-user-code-compose
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -q --only-binary=:all: \
        -r /tmp/requirements/user-code.txt -c /tmp/requirements/constraints.txt \
 && sh /usr/local/bin/slim-venv /opt/venv \
 && /opt/venv/bin/python -c "import dagster, dagster_postgres, dagster_docker, dagster_aws, psycopg2, boto3, pandas, numpy, pyarrow, pyarrow.csv, pyarrow.parquet, pyarrow.compute, pyarrow.dataset, pyarrow.fs, dagster_celery, celery, redis; boto3.client('s3', region_name='us-east-1')" \
 && rm -rf /root/.cache

# USER_CODE_EXTRAS=k8s: the same venv plus requirements/user-code-k8s.txt (dagster-k8s), for
# the Kubernetes deployment (infra/k8s/README.md), installed on top by the builder's pip, so
# the compose venv's layers are reused (the legacy builder builds this stage every time too;
# it is cached after the first build).
FROM venv-user-code-compose AS venv-user-code-k8s
COPY requirements/user-code-k8s.txt /tmp/requirements/
RUN python -m pip --python /opt/venv/bin/python install -q --no-cache-dir --only-binary=:all: \
        -r /tmp/requirements/user-code-k8s.txt -c /tmp/requirements/constraints.txt \
 && sh /usr/local/bin/slim-venv /opt/venv \
 && /opt/venv/bin/python -c "import dagster_k8s, kubernetes.client, kubernetes.config, kubernetes.watch; from dagster_k8s import K8sRunLauncher; from dagster_k8s.job import construct_dagster_k8s_job"

# The venv of the user-code images: compose's (USER_CODE_EXTRAS empty) or k8s.
FROM venv-user-code-${USER_CODE_EXTRAS:-compose} AS venv-user-code

FROM ${PYTHON_IMAGE} AS runtime
LABEL io.dagster-platform.build=1
ARG DAGSTER_UID=1000
ARG DAGSTER_GID=1000
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/opt/dagster/lib \
    DAGSTER_HOME=/opt/dagster/dagster_home
RUN groupadd --gid ${DAGSTER_GID} dagster \
 && useradd --uid ${DAGSTER_UID} --gid dagster --home-dir /home/dagster --create-home \
        --shell /usr/sbin/nologin dagster \
 && mkdir -p /opt/dagster/dagster_home/storage /opt/dagster/app /opt/dagster/infra \
 && chown -R dagster:dagster /opt/dagster/dagster_home /opt/dagster/app
COPY dagster.yaml workspace.yaml workspace.scale.yaml /opt/dagster/dagster_home/
# The platform library: the extensions dagster.yaml names (dagster_platform.compute_logs)
# and what the code locations share (resources, IO manager, settings), in every image.
COPY infra/dagster_platform/ /opt/dagster/lib/dagster_platform/
RUN python3 -m compileall -q /opt/dagster/lib
WORKDIR /opt/dagster/app

FROM runtime AS dagster
COPY --from=venv-dagster /opt/venv /opt/venv
USER dagster
EXPOSE 3000
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/dagster_home/workspace.yaml"]

FROM runtime AS user-code-base
COPY --from=venv-user-code /opt/venv /opt/venv
COPY infra/init/ /opt/dagster/infra/init/
COPY infra/docker/code_server_health.py /opt/dagster/infra/code_server_health.py
EXPOSE 4000

# A code location's image, one build of this stage per location (compose passes LOCATION and
# PACKAGE): the base, the location's project folder (pyproject.toml is the project root
# load_from_defs_folder looks for; src/<package>) under /opt/dagster/app/<location> on
# PYTHONPATH, and its code server as CMD, as the unprivileged user. The build imports the
# definitions module, so a package that does not import fails here, not in production.
FROM user-code-base AS location
ARG LOCATION
ARG PACKAGE=${LOCATION}
ENV DAGSTER_LOCATION_NAME=${LOCATION} \
    DAGSTER_PACKAGE=${PACKAGE} \
    PYTHONPATH=/opt/dagster/lib:/opt/dagster/app/${LOCATION}/src
COPY --chown=root:root user_code/${LOCATION}/ /opt/dagster/app/${LOCATION}/
RUN test -n "${LOCATION}" || { echo "build-arg LOCATION (a folder of user_code/) is required" >&2; exit 2; } \
 && python -m compileall -q /opt/dagster/app/${LOCATION}/src \
 && python -c "import ${PACKAGE}.definitions"
USER dagster
# DAGSTER_LOCATION_NAME is the code server's --location-name.
CMD ["sh", "-c", "exec dagster code-server start -h 0.0.0.0 -p 4000 -m \"$DAGSTER_PACKAGE.definitions\""]
