"""The alert sensors: one message per failed run, per failed non-blocking asset check and
per asset that turns stale, posted to ALERT_WEBHOOK_URL.

Plain ``@sensor``s rather than ``run_failure_sensor``: that one owns its cursor (it refuses
a user cursor) and moves it past a run even when the alert could not be sent, so a
webhook that is down would lose alerts. These read the same records
(``fetch_run_status_changes``), match runs of this code location the way
``run_failure_sensor`` does, and keep undelivered alerts in their cursor (state.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dagster import (
    AssetCheckEvaluation,
    DagsterEventType,
    DagsterRun,
    DefaultSensorStatus,
    RepositoryDefinition,
    RunsFilter,
    RunStatusChangeRecordsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from . import payload
from .delivery import AlertWebhook
from .state import MAX_PENDING, AlertState

# The daemon gives a sensor evaluation 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS) before it
# counts as failed; deliveries stop well before, and what is left waits for the next tick.
TICK_BUDGET_SECONDS = 20.0
FETCH_LIMIT = 25
RUN_FAILURES = "run_failure"
CHECKS = "asset_checks"
FRESHNESS = "freshness"
# Values of Dagster's AssetCheckExecutionRecordStatus and FreshnessState (str enums not
# exported at the top level of dagster, so compared by value).
PLANNED, FAILED, FAIL = "PLANNED", "FAILED", "FAIL"

Collect = Callable[[SensorEvaluationContext, AlertState, str], list[dict]]


def alert_tick(context: SensorEvaluationContext, webhook: AlertWebhook, collect: Collect) -> SensorResult:
    """Find new failures (``collect`` moves the cursor's positions past them), queue them
    and deliver what is pending, within the tick's budget."""
    state = AlertState.parse(context.cursor)
    found = collect(context, state, webhook.ui_url)
    if not state.started and not found:
        return SensorResult(
            skip_reason=SkipReason("First tick: alerting on failures from now on (earlier ones are not sent)."),
            cursor=state.dump(),
        )
    if not webhook.enabled():
        state.pending = []
        reason = "ALERT_WEBHOOK_URL is not set, so alerts are off"
        reason += f" ({len(found)} failure(s) not sent)." if found else "."
        return SensorResult(skip_reason=SkipReason(reason), cursor=state.dump())
    for alert in state.queue(found):
        context.log.warning(f"Alert dropped, more than {MAX_PENDING} pending: {alert['title']}")
    deadline = time.monotonic() + TICK_BUDGET_SECONDS
    sent, problem = 0, ""
    for item in list(state.pending):
        alert = item["alert"]
        result = webhook.deliver(alert, deadline)
        if result.ok:
            state.delivered(alert["id"])
            sent += 1
            context.log.info(f"Alert sent ({result.attempts} attempt(s)): {alert['title']}")
            continue
        if not result.attempts:
            break  # the tick's time is up: not a failure of this alert
        problem = result.detail
        if state.failed(alert["id"]):
            context.log.error(f"Alert given up on after repeated failures ({problem}): {alert['title']}")
        else:
            context.log.warning(f"Alert not delivered, kept for the next tick ({problem}): {alert['title']}")
        if result.retriable:
            break  # the webhook is down: the others wait for the next tick too
    reason = f"{sent} alert(s) sent, {len(state.pending)} pending" + (f" (last error: {problem})." if problem else ".")
    return SensorResult(skip_reason=SkipReason(reason), cursor=state.dump())


# --- run failures ------------------------------------------------------------------------
def in_this_location(context: SensorEvaluationContext, run: DagsterRun) -> bool:
    """The rule of run_failure_sensor without monitored_jobs: runs of this code location and
    repository (both None for runs executed in process, as in tests)."""
    origin = run.remote_job_origin
    location = context.code_location_origin.location_name if context.code_location_origin else None
    run_location = origin.repository_origin.code_location_origin.location_name if origin else None
    run_repository = origin.repository_origin.repository_name if origin else None
    return location == run_location and context.repository_name == run_repository


def error_message(error) -> str:
    """The user's own error: Dagster wraps it (DagsterExecutionStepExecutionError: "Error
    occurred while executing op ...") with the real exception as the cause."""
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    return error.message


def step_failures(context: SensorEvaluationContext, run_id: str) -> tuple[list[str], list[str]]:
    """(failed step keys, their error messages), the failure's own description first."""
    steps, messages = [], []
    for entry in context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        data = event.step_failure_data
        steps.append(event.step_key)
        described = data.user_failure_data.description if data.user_failure_data else None
        messages.append(described or (error_message(data.error) if data.error else entry.message))
    return list(dict.fromkeys(steps)), list(dict.fromkeys(m for m in messages if m))


def run_failure_alert(context: SensorEvaluationContext, run: DagsterRun, record, ui_url: str) -> dict:
    steps, messages = step_failures(context, run.run_id)
    if not messages:  # the run failed outside any step (launch, a crashed worker, ...)
        data = record.event_log_entry.dagster_event.event_specific_data
        error = getattr(data, "error", None)
        messages = [error_message(error) if error else record.event_log_entry.message]
    origin = run.remote_job_origin
    return payload.run_failure(
        location=origin.repository_origin.code_location_origin.location_name if origin else None,
        job=run.job_name,
        run_id=run.run_id,
        failed_steps=steps,
        error="; ".join(messages),
        tags=run.tags,
        ui_url=ui_url,
        timestamp=record.timestamp,
    )


def collect_run_failures(context: SensorEvaluationContext, state: AlertState, ui_url: str) -> list[dict]:
    instance = context.instance
    if RUN_FAILURES not in state.positions:  # first tick: alert on failures from now on
        latest = instance.fetch_run_status_changes(DagsterEventType.RUN_FAILURE, limit=1).records
        state.positions[RUN_FAILURES] = latest[0].storage_id if latest else 0
        return []
    records = instance.fetch_run_status_changes(
        RunStatusChangeRecordsFilter(
            event_type=DagsterEventType.RUN_FAILURE, after_storage_id=state.positions[RUN_FAILURES]
        ),
        limit=FETCH_LIMIT,
        ascending=True,
    ).records
    run_ids = list({r.event_log_entry.run_id for r in records})
    runs = {run.run_id: run for run in instance.get_runs(filters=RunsFilter(run_ids=run_ids))} if run_ids else {}
    alerts = []
    for record in records:
        state.positions[RUN_FAILURES] = record.storage_id
        run = runs.get(record.event_log_entry.run_id)
        if run is not None and in_this_location(context, run):
            alerts.append(run_failure_alert(context, run, record, ui_url))
    return alerts


# --- asset checks and freshness ----------------------------------------------------------
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
    name="run_failure_alerts",
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
    description="One message per failed run of this code location to ALERT_WEBHOOK_URL (README, Alerts).",
)
def run_failure_alerts(context: SensorEvaluationContext, alert_webhook: AlertWebhook) -> SensorResult:
    return alert_tick(context, alert_webhook, collect_run_failures)


@sensor(
    name="asset_alerts",
    minimum_interval_seconds=30,  # the freshness daemon evaluates every 30 s
    default_status=DefaultSensorStatus.RUNNING,
    description="One message per failed non-blocking asset check and per asset that breaks its "
    "freshness policy, to ALERT_WEBHOOK_URL (README, Alerts).",
)
def asset_alerts(context: SensorEvaluationContext, alert_webhook: AlertWebhook) -> SensorResult:
    return alert_tick(context, alert_webhook, collect_asset_alerts)


ALERT_SENSORS = [run_failure_alerts, asset_alerts]
