"""values.yaml and the owned manifests fit together, and match the compose stack's contract.

The chart would deploy happily with a Secret name that exists nowhere, a code server that
lacks a variable the code needs, or a workspace pointing at the wrong Service: those only
show on a cluster, so they are checked here from the files.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import yaml
from dagster_platform.environment import DOCKER_VARIABLES
from dagster_platform.variables import BY_NAME

from .helpers import (
    K8S_DIR,
    ROOT,
    USER_CODE_IMAGE,
    configmap_keys,
    objects,
    pinned,
    secret_keys,
    user_deployments,
    values,
)
from .run_job import run_pod

CODE_SERVER = user_deployments()["orders-and-sales"]
PLATFORM = user_deployments()["platform"]
# The compose code servers each Kubernetes deployment stands for (user_code/scale, the Celery
# demo, is a compose profile only and has no deployment).
COMPOSE_SERVICE = {"orders-and-sales": "user-code", "platform": "platform-code"}


@cache
def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _components() -> dict[str, dict]:
    """Each long-running process's values section (the run pods are checked on the built Job)."""
    chart = values()
    return {
        "webserver": chart["dagsterWebserver"],
        "daemon": chart["dagsterDaemon"],
        "code server": CODE_SERVER,
        "platform code server": PLATFORM,
    }


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
    # The platform code server is left out on purpose: it builds the instance from the
    # daemon's instance ref, which loads the compute log manager lazily, and its sensors
    # never read or write compute logs (values.yaml: it gets no S3 settings at all).
    for name in ("webserver", "daemon", "code server"):
        assert needed <= _env_names(_components()[name]), name
    assert needed <= _run_pod_env_names()


def test_pipeline_credentials_stay_out_of_the_webserver_and_daemon():
    pipeline_only = secret_keys()["dagster-pipeline-credentials"]
    for name in ("webserver", "daemon"):
        assert not pipeline_only & _env_names(_components()[name]), name


def test_alert_settings_reach_both_code_servers_and_only_them():
    """Compose's alert-env goes to both code servers (run_failure_alerts in `platform`,
    asset_alerts in `orders_and_sales`), never to the webserver, the daemon or run pods."""
    alert = set(_compose()["x-alert-env"])
    assert alert == {"ALERT_WEBHOOK_URL", "ALERT_FORMAT", "DAGSTER_UI_URL"}
    for name in ("code server", "platform code server"):
        assert alert <= _env_names(_components()[name]), name
    for name in ("webserver", "daemon"):
        assert not alert & _env_names(_components()[name]), name
    assert not alert & _run_pod_env_names()
    # The webhook URL is a credential (a Slack URL is a token): a Secret, not a ConfigMap.
    assert "ALERT_WEBHOOK_URL" in secret_keys()["dagster-alert-webhook"]
    assert not any("ALERT_WEBHOOK_URL" in keys for keys in configmap_keys().values())


def test_the_platform_code_server_gets_the_alert_settings_and_nothing_else():
    """Instance-wide sensors only: no object store, warehouse or pipeline settings or
    credentials. Its instance (run and event storage) comes from the daemon; the chart
    injects DAGSTER_PG_PASSWORD."""
    assert _env_names(PLATFORM) == {"DAGSTER_PG_PASSWORD", "ALERT_WEBHOOK_URL", "ALERT_FORMAT", "DAGSTER_UI_URL"}
    assert {r["name"] for r in PLATFORM["envSecrets"]} == {"dagster-alert-webhook"}
    assert {r["name"] for r in PLATFORM["envConfigMaps"]} == {"dagster-alerts"}
    assert PLATFORM["includeConfigInLaunchedRuns"] == {"enabled": False}
    # Its own role label: the network policies let it reach Postgres and the webhook only.
    assert PLATFORM["labels"] == {"dagster-platform/role": "platform-code"}


def test_variable_names_are_the_declared_ones():
    names = set().union(*configmap_keys().values(), *secret_keys().values()) - {"postgresql-password"}
    assert names <= set(BY_NAME), f"undeclared in user_code/variables.py: {sorted(names - set(BY_NAME))}"


def _module(deployment: dict) -> str:
    args = deployment["codeServerArgs"]
    assert args[0] == "-m" and len(args) == 2, f"{deployment['name']}: codeServerArgs is -m <module>"
    return args[1]


def _project_of(module: str) -> Path:
    """The dg project (user_code/<location>/) whose src/ holds `module`."""
    relative = Path(*module.split(".")).with_suffix(".py")
    [project] = [p for p in sorted((ROOT / "user_code").iterdir()) if (p / "src" / relative).is_file()]
    return project


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
    # The image built for Kubernetes (USER_CODE_EXTRAS=k8s; tests/k8s/test_image.py).
    assert f"{CODE_SERVER['image']['repository']}:{CODE_SERVER['image']['tag']}" == USER_CODE_IMAGE
    assert CODE_SERVER["includeConfigInLaunchedRuns"] == {"enabled": False}


def test_every_deployment_is_a_compose_code_server_with_its_own_image_and_module():
    """Each user deployment serves one location of the repository: its module exists under
    user_code/<location>/src, it is the package the compose service builds, the image is that
    service's repository, and no two deployments share an image, module or port clash."""
    assert set(user_deployments()) == set(COMPOSE_SERVICE)
    services = _compose()["services"]
    for name, deployment in user_deployments().items():
        module = _module(deployment)
        project = _project_of(module)
        service = services[COMPOSE_SERVICE[name]]
        args = service["build"]["args"]
        assert args["LOCATION"] == project.name, name
        assert args.get("PACKAGE", args["LOCATION"]) == module.split(".")[0], name
        assert service["image"].split(":")[0] == deployment["image"]["repository"], name
        assert deployment["image"]["tag"] == "local-k8s", name
    images = [d["image"]["repository"] for d in user_deployments().values()]
    modules = [_module(d) for d in user_deployments().values()]
    assert len(set(images)) == len(images) and len(set(modules)) == len(modules)


def test_workspace_lists_every_deployment_under_its_compose_location_name():
    """The chart's workspace (webserver and daemon) = compose workspace.yaml, host by host:
    each server is a deployment's Service, named as the dg project names its location."""
    compose_workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    compose_names = {
        e["grpc_server"]["host"]: e["grpc_server"]["location_name"] for e in compose_workspace["load_from"]
    }
    servers = values()["dagsterWebserver"]["workspace"]["servers"]
    assert [s["host"] for s in servers] == list(user_deployments())
    for server in servers:
        deployment = user_deployments()[server["host"]]
        project = _project_of(_module(deployment))
        dg = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["dg"]["project"]
        assert server == {"host": deployment["name"], "port": deployment["port"], "name": dg["code_location_name"]}
        assert server["name"] == compose_names[COMPOSE_SERVICE[deployment["name"]]]


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
