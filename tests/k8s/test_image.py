"""The image the Kubernetes deployment runs: the orders_and_sales location image built with dagster-k8s.

`docker build --target location --build-arg LOCATION=orders_and_sales --build-arg USER_CODE_EXTRAS=k8s` (infra/k8s/README.md,
"Before you deploy") is the compose user-code image plus requirements/user-code-k8s.txt:
same stage, code and command. This test builds it with the Docker engine, as an operator
does, and runs in it what the code server and the run pods import. It needs Docker, hence
the `e2e` marker (but not the compose stack): without an engine it is skipped, unless
--require-e2e / CI=true. With the layer cache of the compose build (`make up`, which the
e2e session runs first) only the venv stage runs again: 111 s measured on 2 cores; with the
image's own layers cached, ~6 s; from nothing (both venvs), about 3 to 4 min.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from e2e.session import require_docker
from tooling.stack import ROOT

from .helpers import USER_CODE_IMAGE, values

pytestmark = pytest.mark.e2e

# A test-only tag: the test never replaces the image an operator built and pushes.
TEST_IMAGE = USER_CODE_IMAGE.rsplit(":", 1)[0] + ":k8s-test"
# The compose user-code image's budget is 600 MB (benchmarks/RESULTS.md); the Kubernetes
# build may add the kubernetes client on top of it, pruned (infra/docker/slim-venv.sh).
BUDGET_MB = 660


@pytest.fixture(scope="module")
def k8s_image(request) -> dict:
    require_docker(request.config, "image tests")
    build = subprocess.run(
        [
            "docker",
            "build",
            "-q",
            "--target",
            "location",
            "--build-arg",
            "LOCATION=orders_and_sales",
            "--build-arg",
            "USER_CODE_EXTRAS=k8s",
            "-t",
            TEST_IMAGE,
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    assert build.returncode == 0, f"building {TEST_IMAGE} failed:\n{build.stderr[-4000:]}"
    inspect = subprocess.run(["docker", "image", "inspect", TEST_IMAGE], capture_output=True, text=True, check=True)
    return json.loads(inspect.stdout)[0]


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "run", "--rm", "--network", "none", TEST_IMAGE, "python", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_code_server_and_run_pods_imports_load_in_the_k8s_image(k8s_image):
    result = _run_python(
        "import dagster_k8s, orders_and_sales.definitions; from dagster_k8s import K8sRunLauncher; "
        "from dagster_k8s.job import construct_dagster_k8s_job; import kubernetes.config, kubernetes.watch; "
        "import importlib.util as u; print(u.find_spec('kubernetes.aio'), u.find_spec('aiohttp'))"
    )
    assert result.returncode == 0, result.stderr[-4000:]
    # What slim-venv.sh pruned as never imported is gone (the import above still works).
    assert result.stdout.split() == ["None", "None"], result.stdout


def test_the_k8s_image_runs_the_chart_code_server_command_as_uid_1000(k8s_image):
    config = k8s_image["Config"]
    code_server_args = values()["dagster-user-deployments"]["deployments"][0]["codeServerArgs"]
    # The image's code server serves $DAGSTER_PACKAGE.definitions (the Dockerfile's location
    # stage); the chart starts the same module.
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["Cmd"][-1].startswith("exec dagster code-server start -h 0.0.0.0 -p 4000")
    assert code_server_args[code_server_args.index("-m") + 1] == f"{env['DAGSTER_PACKAGE']}.definitions"
    assert config["User"] == "dagster"
    uid = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", TEST_IMAGE, "id", "-u"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert uid.stdout.strip() == "1000", uid.stderr


def test_the_k8s_image_fits_its_budget(k8s_image):
    size_mb = k8s_image["Size"] / 1e6
    assert size_mb <= BUDGET_MB, f"{TEST_IMAGE} is {size_mb:.1f} MB, over its {BUDGET_MB} MB budget"
