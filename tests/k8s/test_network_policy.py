"""The network policies allow exactly the stack's paths (networkpolicies.yaml's table).

A small evaluator of Kubernetes NetworkPolicy semantics (a pod selected by any policy of a
direction is isolated in it; a connection needs the client's egress and the server's
ingress) decides each path for pods labelled as values.yaml and dagster-k8s label them.
A closed path must be closed at both ends that the namespace's policies govern, so that
widening one policy alone is caught.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from .helpers import NAMESPACE, objects, values
from .run_job import run_pod

NAMESPACE_LABELS = {
    NAMESPACE: {"kubernetes.io/metadata.name": NAMESPACE},
    "kube-system": {"kubernetes.io/metadata.name": "kube-system"},
    "ingress-nginx": {"kubernetes.io/metadata.name": "ingress-nginx", "dagster-platform/ui-access": "true"},
    "other": {"kubernetes.io/metadata.name": "other"},
}


class Pod(NamedTuple):
    namespace: str | None  # None: outside the cluster
    labels: dict


def _pods() -> dict[str, Pod]:
    chart = values()
    bootstrap = objects("Job")["dagster-bootstrap"]["spec"]["template"]["metadata"]["labels"]

    # The Job controller adds this label to every pod of a Job.
    def job_pod(name, labels=None):
        return Pod(NAMESPACE, {**(labels or {}), "batch.kubernetes.io/job-name": name})

    return {
        "webserver": Pod(NAMESPACE, chart["dagsterWebserver"]["labels"]),
        "daemon": Pod(NAMESPACE, chart["dagsterDaemon"]["labels"]),
        "code server": Pod(NAMESPACE, chart["dagster-user-deployments"]["deployments"][0]["labels"]),
        "run pod": Pod(NAMESPACE, run_pod()["metadata"]["labels"]),
        "migrate job": job_pod("dagster-dagster-webserver-instance-migrate"),
        "bootstrap job": job_pod("dagster-bootstrap", bootstrap),
        "other job": job_pod("someone-elses-job"),
        "postgres": Pod(NAMESPACE, {"app.kubernetes.io/name": "postgresql"}),
        "minio": Pod(NAMESPACE, {"app.kubernetes.io/name": "minio"}),
        "dns": Pod("kube-system", {"k8s-app": "kube-dns"}),
        "ingress controller": Pod("ingress-nginx", {"app": "ingress-nginx"}),
        "foreign pod": Pod("other", {"dagster-platform/role": "run-worker"}),  # a copied label is not enough
        "internet": Pod(None, {}),
    }


def _selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        if not {
            "In": present and value in expr.get("values", []),
            "NotIn": value not in expr.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[expr["operator"]]:
            return False
    return True


def _peer_matches(peer: dict, policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return pod.namespace is None
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        in_namespace = _selects(peer["namespaceSelector"], NAMESPACE_LABELS[pod.namespace])
    else:
        in_namespace = pod.namespace == policy_namespace
    return in_namespace and _selects(peer.get("podSelector", {}), pod.labels)


def _allows(direction: str, pod: Pod, peer: Pod, port: int, protocol: str) -> bool:
    field, peers_field = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    policies = [
        p
        for p in objects("NetworkPolicy").values()
        if pod.namespace == NAMESPACE
        and direction in p["spec"]["policyTypes"]
        and _selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not policies:
        return True  # not isolated in this direction
    for policy in policies:
        for rule in policy["spec"].get(field, []):
            peers = rule.get(peers_field)
            ports = rule.get("ports")
            if (not peers or any(_peer_matches(p, NAMESPACE, peer) for p in peers)) and (
                not ports or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)
            ):
                return True
    return False


def sides(client: str, server: str, port: int, protocol: str = "TCP") -> tuple[bool | None, bool | None]:
    """(the client's egress allows it, the server's ingress allows it); None where that end
    is not in this namespace, so no policy of ours governs it."""
    pods = _pods()
    src, dst = pods[client], pods[server]
    egress = _allows("Egress", src, dst, port, protocol) if src.namespace == NAMESPACE else None
    ingress = _allows("Ingress", dst, src, port, protocol) if dst.namespace == NAMESPACE else None
    return egress, ingress


def can_connect(client: str, server: str, port: int, protocol: str = "TCP") -> bool:
    return all(side is not False for side in sides(client, server, port, protocol))


ALLOWED = [
    *[
        (client, "postgres", 5432)
        for client in ("webserver", "daemon", "code server", "run pod", "migrate job", "bootstrap job")
    ],
    *[(client, "minio", 9000) for client in ("webserver", "daemon", "code server", "run pod")],
    *[(client, "code server", 4000) for client in ("webserver", "daemon", "run pod")],
    ("ingress controller", "webserver", 3000),
    ("daemon", "internet", 443),  # the Kubernetes API (its address is cluster-specific)
    ("webserver", "internet", 6443),
]
DENIED = [
    *[
        ("foreign pod", server, port)
        for server, port in (("postgres", 5432), ("minio", 9000), ("code server", 4000), ("webserver", 3000))
    ],
    ("migrate job", "minio", 9000),
    ("bootstrap job", "minio", 9000),
    ("migrate job", "code server", 4000),
    ("code server", "code server", 4000),
    ("run pod", "webserver", 3000),
    ("code server", "webserver", 3000),
    ("run pod", "internet", 443),
    ("code server", "internet", 443),
    ("bootstrap job", "internet", 443),
    ("run pod", "postgres", 5433),
    ("webserver", "minio", 9001),
    ("postgres", "minio", 9000),
    ("minio", "postgres", 5432),
    ("other job", "postgres", 5432),
]


@pytest.mark.parametrize(("client", "server", "port"), ALLOWED)
def test_stack_paths_are_open(client, server, port):
    assert can_connect(client, server, port)


@pytest.mark.parametrize(("client", "server", "port"), DENIED)
def test_everything_else_is_closed_on_both_ends(client, server, port):
    egress, ingress = sides(client, server, port)
    assert (egress, ingress) != (None, None)
    assert egress is not True and ingress is not True


@pytest.mark.parametrize("client", ["webserver", "daemon", "code server", "run pod", "migrate job", "bootstrap job"])
def test_every_stack_pod_resolves_names(client):
    assert can_connect(client, "dns", 53, "UDP") and can_connect(client, "dns", 53, "TCP")
    assert not can_connect(client, "dns", 5353, "UDP")
