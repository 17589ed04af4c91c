"""`helm template` of infra/k8s/values.yaml with the vendored chart (tests/k8s/chart/).

The vendored chart is Dagster's `dagster-user-deployments` chart, the subchart through
which the `dagster/dagster` chart deploys the code servers (tests/k8s/chart/README.md says
why it is the subchart alone). It is rendered as the parent chart renders it: with the
`dagster-user-deployments` section of values.yaml, and `global`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from .helm import helm
from .helpers import KUBERNETES_VERSION, NAMESPACE, RELEASE, values

CHART_DIR = Path(__file__).parent / "chart" / "dagster-user-deployments"


def subchart_values(chart_values: dict) -> dict:
    """What the parent chart hands its subchart: its own section, plus `global`."""
    return {**chart_values["dagster-user-deployments"], "global": chart_values.get("global", {})}


def render_text(chart_values: dict | None = None) -> str:
    """The manifests, as `helm template` prints them; raises CalledProcessError with helm's
    message when a template fails."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump(subchart_values(chart_values or values()), file)
        file.flush()
        return helm(
            "template",
            RELEASE,
            str(CHART_DIR),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            KUBERNETES_VERSION,
            "--values",
            file.name,
        ).stdout


def render(chart_values: dict | None = None) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(render_text(chart_values)) if doc]
