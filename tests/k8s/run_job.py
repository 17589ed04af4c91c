"""The run Job that dagster-k8s itself builds from values.yaml's launcher settings.

`launcher_config` turns `runLauncher.config.k8sRunLauncher` into the `run_launcher.config`
the chart writes into the instance's dagster.yaml (template `dagsterYaml.runLauncher.k8s`),
`build_run_job` feeds it to dagster-k8s the way `K8sRunLauncher` does at launch
(`_launch_k8s_job_with_args`): the launcher, the run's container context, the job config,
`construct_dagster_k8s_job`. So the Job checked in CI is the one a real launch submits,
minus the run's serialized arguments.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import kubernetes
from dagster import DagsterRun
from dagster_k8s import K8sRunLauncher, construct_dagster_k8s_job
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import get_job_name_from_run_id

from tooling.dagster_config import validated_config

from .helpers import NAMESPACE, RELEASE, USER_CODE_IMAGE, values

RUN_ID = "0123abcd-0000-4000-8000-00000000cafe"
JOB_NAME = "daily_pipeline"

# Parses but is never used to connect: K8sRunLauncher loads a client configuration at
# construction, and CI has no cluster (values.yaml loads the in-cluster one).
_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "offline",
    "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "offline", "user": {}}],
    "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
}


def launcher_config() -> dict:
    """`run_launcher.config` as the chart renders it from values.yaml."""
    chart = values()
    k8s = chart["runLauncher"]["config"]["k8sRunLauncher"]
    run_k8s = k8s.get("runK8sConfig") or {}
    config = {
        "load_incluster_config": k8s["loadInclusterConfig"],
        "job_namespace": k8s.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": k8s["imagePullPolicy"],
        "service_account_name": chart["global"]["serviceAccountName"],
        "dagster_home": chart["global"]["dagsterHome"],
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": chart["global"]["postgresqlSecretName"],
        "env_config_maps": [ref["name"] for ref in k8s.get("envConfigMaps", [])],
        "env_secrets": [ref["name"] for ref in k8s.get("envSecrets", [])],
        "env_vars": k8s.get("envVars", []),
        "labels": k8s.get("labels", {}),
        "resources": k8s.get("resources", {}),
        "fail_pod_on_run_failure": k8s.get("failPodOnRunFailure", False),
        "security_context": k8s.get("securityContext", {}),
        "run_k8s_config": {
            snake: run_k8s[camel]
            for camel, snake in [
                ("containerConfig", "container_config"),
                ("podSpecConfig", "pod_spec_config"),
                ("podTemplateSpecMetadata", "pod_template_spec_metadata"),
                ("jobSpecConfig", "job_spec_config"),
                ("jobMetadata", "job_metadata"),
            ]
            if run_k8s.get(camel)
        },
    }
    if chart.get("imagePullSecrets"):
        config["image_pull_secrets"] = chart["imagePullSecrets"]
    return config


def processed_launcher_config() -> dict:
    """The launcher config after Dagster's own config validation (the daemon's startup check)."""
    return validated_config(K8sRunLauncher.config_type(), launcher_config())


@cache
def build_run_job() -> dict:
    """The run worker Job for one run of `daily_pipeline`, as a Kubernetes API object."""
    with TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        kubeconfig.write_text(json.dumps(_KUBECONFIG))
        config = {**processed_launcher_config(), "load_incluster_config": False, "kubeconfig_file": str(kubeconfig)}
        launcher = K8sRunLauncher.from_config_value(None, config)
    run = DagsterRun(job_name=JOB_NAME, run_id=RUN_ID)
    context = K8sContainerContext.create_for_run(run, launcher, include_run_tags=True)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=USER_CODE_IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run", "{}"],
        job_name=get_job_name_from_run_id(RUN_ID),
        pod_name=get_job_name_from_run_id(RUN_ID),
        component="run_worker",
        user_defined_k8s_config=context.run_k8s_config,
        labels={"dagster/job": JOB_NAME, "dagster/run-id": RUN_ID, "dagster/code-location": "orders_and_sales"},
        env_vars=[{"name": "DAGSTER_RUN_JOB_NAME", "value": JOB_NAME}],
    )
    body = kubernetes.client.ApiClient().sanitize_for_serialization(job)
    body["metadata"]["namespace"] = context.namespace
    return body


def run_pod() -> dict:
    """The Pod the run Job creates (its template, as the Job controller instantiates it)."""
    job = build_run_job()
    template = job["spec"]["template"]
    metadata = {**template["metadata"], "namespace": job["metadata"]["namespace"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}
