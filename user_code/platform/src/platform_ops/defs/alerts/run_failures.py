"""The platform's run-failure alerts: one message per failed run of ANY code location of the
instance, posted to ALERT_WEBHOOK_URL. It lives in the `platform` location, apart from the
pipelines it watches, as Dagster recommends for instance-wide sensors: a team's broken
deploy cannot stop the alerts about it.

It reads the records ``run_failure_sensor`` reads (``fetch_run_status_changes``) and keeps
undelivered alerts in its cursor (dagster_platform/alerts/state.py).
"""

from __future__ import annotations

from dagster import (
    DagsterEventType,
    DagsterRun,
    DefaultSensorStatus,
    RunsFilter,
    RunStatusChangeRecordsFilter,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)
from dagster_platform.alerts import payload
from dagster_platform.alerts.delivery import AlertWebhook
from dagster_platform.alerts.state import AlertState
from dagster_platform.alerts.tick import FETCH_LIMIT, alert_tick

RUN_FAILURES = "run_failure"


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
        if run is not None:
            alerts.append(run_failure_alert(context, run, record, ui_url))
    return alerts


@sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=10,
    default_status=DefaultSensorStatus.RUNNING,
    description="One message per failed run of any code location to ALERT_WEBHOOK_URL (docs/alerts.md).",
)
def run_failure_alerts(context: SensorEvaluationContext, alert_webhook: AlertWebhook) -> SensorResult:
    return alert_tick(context, alert_webhook, collect_run_failures)
