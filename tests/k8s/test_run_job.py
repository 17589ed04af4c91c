"""The run Job and Pod that dagster-k8s builds from values.yaml are what we intend.

The Helm chart is not rendered in CI, but the run pods are not rendered by Helm either:
the daemon's K8sRunLauncher builds them at launch from `runLauncher.config.k8sRunLauncher`.
run_job.py calls that same dagster-k8s code, so these checks see the real object.
"""

from __future__ import annotations

import kubernetes_validate

from .helpers import KUBERNETES_VERSION, USER_CODE_IMAGE, pinned, values
from .run_job import build_run_job, processed_launcher_config, run_pod


def _container() -> dict:
    [container] = build_run_job()["spec"]["template"]["spec"]["containers"]
    return container


def test_dagster_k8s_is_pinned_in_lockstep_with_dagster():
    assert pinned("dagster-k8s") == pinned("dagster-postgres") == pinned("dagster-aws")
    assert pinned("dagster") == pinned("dagster-webserver")


def test_launcher_settings_pass_dagsters_own_config_schema():
    config = processed_launcher_config()
    assert config["fail_pod_on_run_failure"] is True
    assert config["service_account_name"] == values()["serviceAccount"]["name"]


def test_run_job_and_pod_are_valid_in_strict_mode():
    kubernetes_validate.validate(build_run_job(), KUBERNETES_VERSION, strict=True)
    kubernetes_validate.validate(run_pod(), KUBERNETES_VERSION, strict=True)


def test_run_pod_runs_the_code_locations_image_with_bounded_resources():
    container = _container()
    assert container["image"] == USER_CODE_IMAGE
    assert container["imagePullPolicy"] == "IfNotPresent"
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}


def test_run_pod_gets_settings_and_secrets_by_reference_only():
    container = _container()
    refs = [(kind, ref["name"]) for source in container["envFrom"] for kind, ref in source.items()]
    assert refs == [
        ("configMapRef", "dagster-s3"),
        ("configMapRef", "dagster-pipelines"),
        ("secretRef", "dagster-s3-credentials"),
        ("secretRef", "dagster-pipeline-credentials"),
    ]
    env = {item["name"]: item for item in container["env"]}
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "dagster-postgresql-secret",
        "key": "postgresql-password",
    }
    assert {name for name, item in env.items() if "value" in item} == {"DAGSTER_RUN_JOB_NAME", "DAGSTER_HOME"}


def test_run_pod_is_unprivileged_and_cleaned_up():
    job = build_run_job()
    spec = job["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == "dagster"
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    security = _container()["securityContext"]
    assert security["runAsNonRoot"] and security["runAsUser"] == 1000
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert job["spec"]["backoffLimit"] == 0, "a failed run is retried by the daemon, not by the Job"


def test_run_pod_carries_the_role_label_the_network_policies_select():
    labels = run_pod()["metadata"]["labels"]
    assert labels["dagster-platform/role"] == "run-worker"
    assert labels["app.kubernetes.io/component"] == "run_worker"
