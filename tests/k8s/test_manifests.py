"""The Kubernetes objects the project owns are valid for the pinned Kubernetes version.

kubernetes-validate checks each object in strict mode (an unknown or misplaced field
fails, as `kubectl apply --validate=strict` would); kustomization.yaml is rendered with
`kubectl kustomize` where kubectl is installed, and by reading its resources otherwise.
"""

from __future__ import annotations

import kubernetes_validate
import pytest

from .helpers import (
    KUBERNETES_VERSION,
    NAMESPACE,
    manifest_files,
    manifests,
    render_kustomization_from_files,
    render_kustomization_with_kubectl,
)


def _key(doc: dict) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


@pytest.mark.parametrize("doc", manifests(), ids=lambda doc: "{}/{}".format(*_key(doc)))
def test_every_owned_object_is_valid_in_strict_mode(doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_manifests_were_found():
    names = {path.name for path in manifest_files()}
    assert {
        "namespace.yaml",
        "configmaps.yaml",
        "networkpolicies.yaml",
        "secrets.template.yaml",
        "bootstrap-job.yaml",
    } <= names


def test_kustomization_renders_the_namespaced_stack():
    rendered = render_kustomization_from_files()
    kinds = {doc["kind"] for doc in rendered}
    assert {"Namespace", "ConfigMap", "NetworkPolicy"} <= kinds
    assert "Secret" not in kinds, "Secrets are created from .env, never by `kubectl apply -k`"
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE


def test_kubectl_kustomize_agrees_with_the_file_renderer():
    real = render_kustomization_with_kubectl()
    if real is None:
        pytest.skip("kubectl is not installed; the stack was rendered from the files only")
    assert {_key(d): d for d in real} == {_key(d): d for d in render_kustomization_from_files()}


def test_every_owned_workload_container_has_requests_and_limits():
    for doc in manifests():
        if doc["kind"] not in ("Job", "Deployment", "StatefulSet", "DaemonSet", "CronJob"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), (doc["metadata"]["name"], bound)
