"""One tick of an alert sensor: find new failures, queue them in the cursor and deliver
what is pending within the tick's budget. Shared by the sensors of every location that
alerts (the platform location's run failures, a location's own asset alerts).

Plain ``@sensor``s rather than ``run_failure_sensor``: that one owns its cursor (it refuses
a user cursor) and moves it past a run even when the alert could not be sent, so a
webhook that is down would lose alerts. These keep undelivered alerts in their cursor
(state.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dagster import SensorEvaluationContext, SensorResult, SkipReason

from .delivery import AlertWebhook
from .state import MAX_PENDING, AlertState

# The daemon gives a sensor evaluation 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS) before it
# counts as failed; deliveries stop well before, and what is left waits for the next tick.
TICK_BUDGET_SECONDS = 20.0
FETCH_LIMIT = 25

Collect = Callable[[SensorEvaluationContext, AlertState, str], list[dict]]


def alert_tick(
    context: SensorEvaluationContext,
    webhook: AlertWebhook,
    collect: Collect,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SensorResult:
    """Find new failures (``collect`` moves the cursor's positions past them), queue them
    and deliver what is pending, within the tick's budget (measured with ``clock``; the
    deliveries wait between retries with ``sleep``)."""
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
    deadline = clock() + TICK_BUDGET_SECONDS
    sent, problem = 0, ""
    for item in list(state.pending):
        alert = item["alert"]
        result = webhook.deliver(alert, deadline, clock, sleep)
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
