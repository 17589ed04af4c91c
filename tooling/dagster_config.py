"""Config validated the way Dagster validates it, through public APIs only.

The tests check that what we hand to Dagster (dagster.yaml's compute log manager, the
Helm values' run launcher and instance settings) is accepted by the pinned release's own
schema, not by a copy of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import job, op, validate_run_config


def validated_config(schema: Any, value: Mapping[str, Any]) -> dict:
    """``value`` as Dagster processes it against ``schema``: defaults filled in and
    ``{env: NAME}`` resolved. Raises ``DagsterInvalidConfigError`` naming each problem.

    The schema is attached to a throwaway op and checked with ``validate_run_config``.
    """

    @op(config_schema=schema)
    def probe() -> None:
        """Never runs: it only carries the schema."""

    @job
    def validation() -> None:
        probe()

    return dict(validate_run_config(validation, {"ops": {"probe": {"config": dict(value)}}})["ops"]["probe"]["config"])
