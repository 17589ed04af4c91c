"""Every key of infra/k8s/values.yaml is one the chart documents, with a value of its type.

Helm drops keys a chart does not read, so a misspelt key (`readinesProbe`, `envSecret`)
silently deploys without the setting. The reference is the chart's own values.schema.json
(vendored in tests/k8s/chart/, see its README); where the chart points at a Kubernetes type
(probes, resources, security contexts) the keys are checked against that type in
kubernetes-validate's definitions for the pinned Kubernetes version. Keys the chart passes
through unchecked (`runMonitoring`, `additionalInstanceConfig`) go to Dagster's own
instance schema.
"""

from __future__ import annotations

import copy
import re

from dagster import DagsterInstance

from .helpers import K8S_REFERENCE, chart_schema, chart_schema_errors, kubernetes_definitions, values


def _deref(ref: str, doc: dict) -> tuple[dict, dict]:
    if ref.startswith("#/$defs/"):
        return doc["$defs"][ref.removeprefix("#/$defs/")], doc
    base, _, pointer = ref.partition("#/definitions/")
    assert base == K8S_REFERENCE, f"unexpected reference {ref}"
    k8s = kubernetes_definitions()
    name, _, rest = pointer.partition("/")
    node = k8s["$defs"][name]
    for part in filter(None, rest.split("/")):
        node = node[part]
    return node, k8s


def _branches(node: dict, doc: dict) -> list[tuple[dict, dict]]:
    """The node and every schema it also stands for ($ref, anyOf/oneOf/allOf)."""
    found = [(node, doc)]
    if "$ref" in node:
        found += _branches(*_deref(node["$ref"], doc))
    for keyword in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(keyword, []):
            found += _branches(sub, doc)
    return found


def undocumented_keys(value, node: dict, doc: dict, path: str = "") -> list[str]:
    """Key paths of `value` that the schema `node` (in document `doc`) does not document."""
    branches = _branches(node, doc)
    if isinstance(value, dict):
        documented = {}
        for branch, branch_doc in branches:
            for key, sub in branch.get("properties", {}).items():
                documented.setdefault(key, []).append((sub, branch_doc))
        if not documented:  # a free-form map (labels, env, config passed through)
            extra = [
                (b["additionalProperties"], d) for b, d in branches if isinstance(b.get("additionalProperties"), dict)
            ]
            return [
                m
                for key, sub in value.items()
                for m in (undocumented_keys(sub, *extra[0], f"{path}.{key}") if extra else [])
            ]
        missing = []
        for key, sub in value.items():
            if key not in documented:
                missing.append(f"{path}.{key}".lstrip("."))
            else:
                missing += min((undocumented_keys(sub, n, d, f"{path}.{key}") for n, d in documented[key]), key=len)
        return missing
    if isinstance(value, list):
        items = [(b["items"], d) for b, d in branches if isinstance(b.get("items"), dict)]
        return [
            m
            for i, item in enumerate(value)
            for m in (undocumented_keys(item, *items[0], f"{path}[{i}]") if items else [])
        ]
    return []


def test_every_key_is_documented_by_the_chart():
    schema = chart_schema()
    assert undocumented_keys(values(), schema, schema) == []


def test_the_check_catches_misspelt_keys_at_every_depth():
    schema = chart_schema()
    wrong = copy.deepcopy(values())
    wrong["dagsterWebserver"]["readinesProbe"] = wrong["dagsterWebserver"].pop("readinessProbe")
    wrong["dagsterDaemon"]["livenessProbe"]["periodSecond"] = 30
    wrong["dagster-user-deployments"]["deployments"][0]["envSecret"] = []
    wrong["runLauncher"]["config"]["k8sRunLauncher"]["resources"]["limit"] = {}
    wrong["dagsterWebsever"] = {}
    assert sorted(undocumented_keys(wrong, schema, schema)) == [
        "dagster-user-deployments.deployments[0].envSecret",
        "dagsterDaemon.livenessProbe.periodSecond",
        "dagsterWebserver.readinesProbe",
        "dagsterWebsever",
        "runLauncher.config.k8sRunLauncher.resources.limit",
    ]


def test_values_have_the_types_the_chart_schema_requires():
    assert chart_schema_errors(values()) == []


def test_pass_through_instance_settings_are_dagster_instance_keys(tmp_path):
    """`runMonitoring` is copied into dagster.yaml key by key (camelCase -> snake_case) and
    `additionalInstanceConfig` as is; the chart schema checks neither."""
    monitoring = values()["dagsterDaemon"]["runMonitoring"]
    instance = {
        "run_monitoring": {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): v for key, v in monitoring.items()},
        **values()["additionalInstanceConfig"],
    }
    # The instance validates its settings against the pinned release's schema when it loads;
    # with a run launcher that resumes runs, as K8sRunLauncher does (no cluster needed).
    launcher = {"run_launcher": {"module": "dagster_docker", "class": "DockerRunLauncher"}}
    with DagsterInstance.local_temp(str(tmp_path), overrides={**instance, **launcher}) as loaded:
        assert loaded.run_monitoring_enabled
