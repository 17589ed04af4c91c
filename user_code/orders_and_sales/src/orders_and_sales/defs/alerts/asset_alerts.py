"""This location's asset alerts: one message per failed non-blocking asset check and per
asset that turns stale, posted to ALERT_WEBHOOK_URL. A sensor sees only its own location's
definitions (which checks block, which assets have a freshness policy), so asset alerts
live beside the assets; run failures of every location are the `platform` location's
(user_code/platform).
"""

from __future__ import annotations

from dagster import (
    AssetCheckEvaluation,
    DefaultSensorStatus,
    RepositoryDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)
from dagster_platform.alerts import payload
from dagster_platform.alerts.delivery import AlertWebhook
from dagster_platform.alerts.state import AlertState
from dagster_platform.alerts.tick import FETCH_LIMIT, alert_tick

CHECKS = "asset_checks"
FRESHNESS = "freshness"
# Values of Dagster's AssetCheckExecutionRecordStatus and FreshnessState (str enums not
# exported at the top level of dagster, so compared by value).
PLANNED, FAILED, FAIL = "PLANNED", "FAILED", "FAIL"


def collect_check_failures(context: SensorEvaluationContext, state: AlertState, ui_url: str) -> list[dict]:
    """Failed evaluations of non-blocking checks since the last tick (a blocking check that
    fails fails its run, which is a run-failure alert)."""
    graph = repository(context).asset_graph
    first_tick = CHECKS not in state.positions
    positions = state.positions.setdefault(CHECKS, {})
    alerts = []
    for key in sorted(graph.asset_check_keys, key=lambda k: k.to_user_string()):
        if graph.get_check_spec(key).blocking:
            continue
        name = key.to_user_string()
        history = context.instance.event_log_storage.get_asset_check_execution_history(key, limit=FETCH_LIMIT)
        if first_tick:
            positions[name] = max((r.id for r in history), default=0)
            continue
        for record in sorted(history, key=lambda r: r.id):
            if record.id <= positions.get(name, 0) or record.status.value == PLANNED:
                continue
            positions[name] = record.id
            event = record.event
            evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
            if record.status.value != FAILED or not isinstance(evaluation, AssetCheckEvaluation) or event is None:
                continue
            alerts.append(
                payload.check_failure(
                    asset=key.asset_key.to_user_string(),
                    check=key.name,
                    severity=evaluation.severity.value,
                    description=evaluation.description,
                    run_id=record.run_id or None,
                    partition=record.partition,
                    execution_id=record.id,
                    ui_url=ui_url,
                    timestamp=event.timestamp,
                )
            )
    return alerts


def repository(context: SensorEvaluationContext) -> RepositoryDefinition:
    """The code location's definitions (a sensor of a loaded location always has them)."""
    if context.repository_def is None:
        raise RuntimeError("the sensor was evaluated without its code location's definitions")
    return context.repository_def


def describe_policy(policy) -> str:
    window = getattr(policy, "fail_window", None)  # FreshnessPolicy.time_window(...)
    if window is not None:
        return f"a materialization at least every {window.to_timedelta().total_seconds() / 60:g} minutes"
    return type(policy).__name__


def collect_freshness_failures(context: SensorEvaluationContext, state: AlertState, ui_url: str) -> list[dict]:
    """Assets whose freshness state (kept by Dagster's freshness daemon) turned FAIL, once
    per change of state. An asset already failing when alerts start is reported too."""
    graph = repository(context).asset_graph
    policies = {node.key: node.freshness_policy for node in graph.asset_nodes if node.freshness_policy}
    positions = state.positions.setdefault(FRESHNESS, {})
    alerts = []
    for key, record in context.instance.get_freshness_state_records(list(policies)).items():
        name, changed = key.to_user_string(), record.updated_at.timestamp()
        if record.freshness_state.value != FAIL or changed <= positions.get(name, 0):
            continue
        positions[name] = changed
        alerts.append(
            payload.freshness_failure(
                asset=name, policy=describe_policy(policies[key]), ui_url=ui_url, timestamp=changed
            )
        )
    return alerts


def collect_asset_alerts(context: SensorEvaluationContext, state: AlertState, ui_url: str) -> list[dict]:
    return collect_check_failures(context, state, ui_url) + collect_freshness_failures(context, state, ui_url)


@sensor(
    name="asset_alerts",
    minimum_interval_seconds=30,  # the freshness daemon evaluates every 30 s
    default_status=DefaultSensorStatus.RUNNING,
    description="One message per failed non-blocking asset check and per asset that breaks its "
    "freshness policy, to ALERT_WEBHOOK_URL (docs/alerts.md).",
)
def asset_alerts(context: SensorEvaluationContext, alert_webhook: AlertWebhook) -> SensorResult:
    return alert_tick(context, alert_webhook, collect_asset_alerts)
