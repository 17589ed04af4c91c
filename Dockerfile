# Dagster images for the compose stack. One file, three stages:
#   builder    installs the pinned runtime requirements into /opt/venv (pip caches dropped)
#   dagster    webserver and daemon: the venv, dagster.yaml, workspace.yaml, non-root user
#   user-code  the dagster stage plus user_code/: the gRPC code server, the init job and
#              every run container the DockerRunLauncher starts
# Plain Dockerfile syntax only (no BuildKit features): it builds with the legacy builder.
# No secret is passed at build time; every credential arrives as a run-time env var.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements/runtime.txt requirements/constraints.txt /tmp/requirements/
# Wheels only: a missing wheel fails the build instead of pulling in a compiler.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --only-binary=:all: \
        -r /tmp/requirements/runtime.txt -c /tmp/requirements/constraints.txt \
 && (/opt/venv/bin/pip uninstall -y pip setuptools wheel >/dev/null 2>&1 || true) \
 && rm -rf /root/.cache /tmp/requirements

FROM ${PYTHON_IMAGE} AS dagster
ARG DAGSTER_UID=1000
ARG DAGSTER_GID=1000
ENV PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    PYTHONUNBUFFERED=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home
RUN groupadd --gid ${DAGSTER_GID} dagster \
 && useradd --uid ${DAGSTER_UID} --gid dagster --home-dir /home/dagster --create-home \
        --shell /usr/sbin/nologin dagster \
 && mkdir -p /opt/dagster/dagster_home/storage /opt/dagster/app /opt/dagster/infra \
 && chown -R dagster:dagster /opt/dagster/dagster_home /opt/dagster/app
COPY --from=builder /opt/venv /opt/venv
COPY dagster.yaml workspace.yaml /opt/dagster/dagster_home/
COPY infra/init/ /opt/dagster/infra/init/
WORKDIR /opt/dagster/app
USER dagster
EXPOSE 3000
CMD ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", "/opt/dagster/dagster_home/workspace.yaml"]

FROM dagster AS user-code
COPY --chown=root:root user_code/ /opt/dagster/app/user_code/
EXPOSE 4000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "user_code.definitions"]
