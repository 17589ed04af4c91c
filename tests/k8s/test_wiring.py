"""values.yaml and the owned manifests fit together, and match the compose stack's contract.

The chart would deploy happily with a Secret name that exists nowhere, a code server that
lacks a variable the code needs, or a workspace pointing at the wrong Service: those only
show on a cluster, so they are checked here from the files.
"""

from __future__ import annotations

from dagster_platform.environment import DOCKER_VARIABLES
from dagster_platform.variables import BY_NAME

from .helpers import K8S_DIR, USER_CODE_IMAGE, configmap_keys, objects, pinned, secret_keys, values
from .run_job import run_pod

CODE_SERVER = values()["dagster-user-deployments"]["deployments"][0]


def _components() -> dict[str, dict]:
    """Each long-running process's values section (the run pods are checked on the built Job)."""
    chart = values()
    return {"webserver": chart["dagsterWebserver"], "daemon": chart["dagsterDaemon"], "code server": CODE_SERVER}


def _env_names(section: dict) -> set[str]:
    """Variables a container gets from the ConfigMaps and Secrets its section references."""
    names = {"DAGSTER_PG_PASSWORD"}  # the chart injects it into every Dagster container
    for ref in section.get("envConfigMaps", []):
        names |= configmap_keys()[ref["name"]]
    for ref in section.get("envSecrets", []):
        names |= secret_keys()[ref["name"]]
    return names


def _run_pod_env_names() -> set[str]:
    [container] = run_pod()["spec"]["containers"]
    names = {item["name"] for item in container["env"]}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            names |= configmap_keys()[source["configMapRef"]["name"]]
        else:
            names |= secret_keys()[source["secretRef"]["name"]]
    return names


def test_every_referenced_configmap_and_secret_is_owned_here():
    launcher = values()["runLauncher"]["config"]["k8sRunLauncher"]
    for section in [*_components().values(), launcher]:
        assert {r["name"] for r in section.get("envConfigMaps", [])} <= set(configmap_keys())
        assert {r["name"] for r in section.get("envSecrets", [])} <= set(secret_keys())
    assert values()["generatePostgresqlPasswordSecret"] is False
    assert secret_keys()[values()["global"]["postgresqlSecretName"]] == {"postgresql-password"}


def test_code_server_and_run_pods_get_every_variable_the_code_requires():
    assert set(DOCKER_VARIABLES) <= _env_names(CODE_SERVER)
    assert set(DOCKER_VARIABLES) <= _run_pod_env_names()


def test_every_process_that_loads_the_instance_can_resolve_its_compute_log_settings():
    s3 = values()["computeLogManager"]["config"]["s3ComputeLogManager"]
    needed = {v["env"] for v in s3.values() if isinstance(v, dict)} | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert needed == {"S3_BUCKET", "S3_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert s3["prefix"] == "compute-logs"
    for name, section in _components().items():
        assert needed <= _env_names(section), name
    assert needed <= _run_pod_env_names()


def test_pipeline_credentials_stay_out_of_the_webserver_and_daemon():
    pipeline_only = secret_keys()["dagster-pipeline-credentials"]
    for name in ("webserver", "daemon"):
        assert not pipeline_only & _env_names(_components()[name]), name


def test_variable_names_are_the_declared_ones():
    names = set().union(*configmap_keys().values(), *secret_keys().values()) - {"postgresql-password"}
    assert names <= set(BY_NAME), f"undeclared in user_code/variables.py: {sorted(names - set(BY_NAME))}"


def test_code_server_is_the_compose_user_code_service():
    command = [
        "dagster",
        "code-server",
        "start",
        "-h",
        "0.0.0.0",
        "-p",
        str(CODE_SERVER["port"]),
        *CODE_SERVER["codeServerArgs"],
    ]
    assert command == "dagster code-server start -h 0.0.0.0 -p 4000 -m orders_and_sales.definitions".split()
    # The user-code image built for Kubernetes (USER_CODE_EXTRAS=k8s; tests/k8s/test_image.py).
    assert f"{CODE_SERVER['image']['repository']}:{CODE_SERVER['image']['tag']}" == USER_CODE_IMAGE
    assert CODE_SERVER["includeConfigInLaunchedRuns"] == {"enabled": False}
    [server] = values()["dagsterWebserver"]["workspace"]["servers"]
    assert server == {"host": CODE_SERVER["name"], "port": CODE_SERVER["port"], "name": "orders_and_sales"}


def test_images_and_chart_follow_the_pinned_dagster_version():
    for name in ("webserver", "daemon"):
        assert _components()[name]["image"]["tag"] == pinned("dagster"), name
    for doc in ("values.yaml", "README.md"):
        assert f"--version {pinned('dagster')}" in (K8S_DIR / doc).read_text(), doc


def test_every_component_has_requests_limits_and_probes():
    for name, section in _components().items():
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(section["resources"][bound]), (name, bound)
        assert section["startupProbe"]["enabled"] is True, name
        assert section["livenessProbe"] and section["readinessProbe"], name
    for name in ("webserver", "daemon"):
        init = _components()[name]["initContainerResources"]
        assert set(init) == {"requests", "limits"}, name


def test_bootstrap_job_uses_the_instance_database_of_values():
    [container] = objects("Job")["dagster-bootstrap"]["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    postgres = values()["postgresql"]
    assert (env["DAGSTER_PG_HOST"], env["DAGSTER_PG_PORT"], env["DAGSTER_PG_DB"], env["DAGSTER_PG_USER"]) == (
        postgres["postgresqlHost"],
        str(postgres["service"]["port"]),
        postgres["postgresqlDatabase"],
        postgres["postgresqlUsername"],
    )
    assert container["image"] == USER_CODE_IMAGE  # the code server's: it ships infra/init/
