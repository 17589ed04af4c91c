"""infra/k8s/values.yaml rendered by the official chart with a real helm, every manifest
validated against the Kubernetes schema of the pinned version (kubernetes-validate, strict).

The values schema (test_chart_values.py) cannot see what a template does with a value; these
tests can: a value that passes the values schema but makes a template emit an invalid
manifest fails here.
"""

from __future__ import annotations

import copy
from functools import cache

import kubernetes_validate
from .helpers import KUBERNETES_VERSION, chart_schema_errors, values
from .render import render


def _errors(manifests: list[dict]) -> list[str]:
    found = []
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            name = f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"
            found.append(f"{name}: {exc.message} at {'.'.join(map(str, exc.path))}")
    return found


@cache
def _rendered() -> tuple[dict, ...]:
    return tuple(render())


def test_every_rendered_manifest_is_valid_kubernetes():
    manifests = list(_rendered())
    assert manifests
    assert _errors(manifests) == []


def test_each_location_renders_its_own_deployment_and_service():
    names = {d["name"] for d in values()["dagster-user-deployments"]["deployments"]}
    kinds = {(m["kind"], m["metadata"]["name"]) for m in _rendered()}
    for name in names:
        assert any(kind == "Deployment" and name in n for kind, n in kinds), (name, kinds)
        assert ("Service", name) in kinds, (name, kinds)


def test_a_value_the_values_schema_accepts_but_the_template_breaks_fails():
    """A misspelt key inside `resources` (`limit`): the chart's values schema lets unknown
    keys through there, helm renders it into the container, and only the strict Kubernetes
    schema of the rendered manifest rejects it."""
    broken = copy.deepcopy(values())
    broken["dagster-user-deployments"]["deployments"][0]["resources"] = {"limit": {"cpu": "1"}}
    assert chart_schema_errors(broken) == []
    errors = _errors(render(broken))
    assert len(errors) == 1 and "'limit' was unexpected" in errors[0], errors


def test_each_code_server_runs_its_own_image():
    images = {}
    for m in _rendered():
        if m["kind"] == "Deployment" and m["metadata"]["name"].endswith(("orders-and-sales", "platform")):
            (container,) = m["spec"]["template"]["spec"]["containers"]
            images[m["metadata"]["name"]] = container["image"]
    assert len(images) == 2 and len(set(images.values())) == 2, images
