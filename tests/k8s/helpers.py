"""What the Kubernetes checks share: the files under infra/k8s and the pinned versions.

No check needs a cluster; the chart is rendered by a real helm from the vendored copy in
tests/k8s/chart/ (render.py; infra/k8s/README.md says what an operator runs on a cluster).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from functools import cache
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
K8S_DIR = ROOT / "infra" / "k8s"
CHART_SCHEMA_PATH = Path(__file__).parent / "chart" / "values.schema.json"

# The oldest Kubernetes minor the manifests promise to work on (infra/k8s/README.md): every
# object is validated against its OpenAPI schemas, so a newer-only field fails here.
KUBERNETES_VERSION = "1.34.0"
NAMESPACE = "dagster"
RELEASE = "dagster"  # values.yaml's fixed names (dagster-instance, ...) assume this release
# values.yaml's orders_and_sales image: the location target built with USER_CODE_EXTRAS=k8s.
USER_CODE_IMAGE = "dagster-platform/user-code:local-k8s"
# The chart's schema refers to Kubernetes types in this collection (`#/definitions/<type>`).
K8S_REFERENCE = "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/v1.19.0/_definitions.json"

# Files under infra/k8s that are not Kubernetes objects.
NOT_MANIFESTS = {"values.yaml", "kustomization.yaml"}


def load_docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@cache
def values() -> dict:
    return yaml.safe_load((K8S_DIR / "values.yaml").read_text())


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S_DIR.glob("*.yaml") if p.name not in NOT_MANIFESTS)


@cache
def manifests() -> list[dict]:
    """Every Kubernetes object the project owns (kustomized or applied by hand); read-only."""
    return [doc for path in manifest_files() for doc in load_docs(path)]


def objects(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in manifests() if doc["kind"] == kind}


def secret_keys() -> dict[str, set[str]]:
    return {name: set(doc.get("stringData", {})) for name, doc in objects("Secret").items()}


def configmap_keys() -> dict[str, set[str]]:
    return {name: set(doc.get("data", {})) for name, doc in objects("ConfigMap").items()}


def render_kustomization_from_files() -> list[dict]:
    """`kubectl kustomize infra/k8s` for the features kustomization.yaml uses: its
    resources, each namespaced object put in `namespace`."""
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "resources"}, (
        "kustomization.yaml uses a feature this renderer does not implement"
    )
    rendered = []
    for resource in kustomization["resources"]:
        for doc in load_docs(K8S_DIR / resource):
            doc = copy.deepcopy(doc)
            if doc["kind"] != "Namespace":
                doc["metadata"]["namespace"] = kustomization["namespace"]
            rendered.append(doc)
    return rendered


def render_kustomization_with_kubectl() -> list[dict] | None:
    """The real `kubectl kustomize` output, or None where kubectl is not installed."""
    if not shutil.which("kubectl"):
        return None
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S_DIR)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@cache
def env_example() -> dict[str, str]:
    """KEY -> value of .env.example (the names the code and the stack read)."""
    pairs = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    return dict(pairs)


@cache
def pinned(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", (ROOT / "requirements" / "constraints.txt").read_text(), re.M)
    assert match, f"{package} is not pinned in requirements/constraints.txt"
    return match.group(1)


@cache
def kubernetes_definitions() -> dict:
    """kubernetes-validate's OpenAPI definitions (`$defs`) of the pinned Kubernetes version."""
    path = (
        files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local" / "_definitions.json"
    )
    return json.loads(path.read_text())


@cache
def chart_schema() -> dict:
    return json.loads(CHART_SCHEMA_PATH.read_text())


def _without_required(schema):
    """The schema for an override file: the chart's own defaults supply what is required."""
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if not (k == "required" and isinstance(v, list))}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


@cache
def _chart_schema_validator() -> jsonschema.Draft202012Validator:
    shim = {"$defs": kubernetes_definitions()["$defs"], "definitions": kubernetes_definitions()["$defs"]}
    registry = Registry().with_resource(K8S_REFERENCE, Resource(contents=shim, specification=DRAFT202012))
    return jsonschema.Draft202012Validator(_without_required(chart_schema()), registry=registry)


def chart_schema_errors(chart_values: dict) -> list[str]:
    """Where `chart_values` breaks the chart's values.schema.json (its Kubernetes types resolved
    in kubernetes-validate's definitions of the pinned version); [] when it passes."""
    errors = _chart_schema_validator().iter_errors(chart_values)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def user_deployments() -> dict[str, dict]:
    """values.yaml's code locations by deployment name (one Deployment + Service each)."""
    return {d["name"]: d for d in values()["dagster-user-deployments"]["deployments"]}
