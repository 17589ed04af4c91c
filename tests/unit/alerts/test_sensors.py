"""The alert sensors against a real Dagster instance (SQLite) and a real HTTP webhook:
one alert per failure, none twice, none lost when the webhook is down, none when off.
run_failure_alerts is the platform location's (every location's runs), asset_alerts
orders_and_sales' (its own checks and freshness policies)."""

import time

import pytest
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Definitions,
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    asset,
    build_sensor_context,
    define_asset_job,
    instance_for_test,
    materialize,
)

# Private on purpose (docs/CONTRACT.md, "Private Dagster imports"): Dagster 1.13 exports no
# public way to write a freshness state change, the record its freshness daemon keeps; the
# test writes one to a real instance instead of waiting the policy's 60 minutes.
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from dagster_platform.alerts import tick as alert_tick
from dagster_platform.alerts.delivery import AlertWebhook

from .test_delivery import TimedPosts
from orders_and_sales.defs.alerts.asset_alerts import asset_alerts
from platform_ops.defs.alerts.run_failures import collect_run_failures, run_failure_alerts

BAD_KEY = "incoming/orders/20270115T080000-bad.csv"


@asset
def ingest_one():
    raise Failure(
        description=f"1 file(s) could not be ingested (the others were): {BAD_KEY}: missing columns: amount",
        allow_retries=False,
    )


@asset(
    check_specs=[
        AssetCheckSpec("looks_ok", asset="watched", blocking=False),
        AssetCheckSpec("must_be_ok", asset="watched", blocking=True),
    ],
    freshness_policy=FreshnessPolicy.time_window(fail_window=__import__("datetime").timedelta(minutes=60)),
)
def watched():
    yield MaterializeResult(
        check_results=[
            AssetCheckResult(
                check_name="looks_ok", passed=False, severity=AssetCheckSeverity.WARN, description="3 rows look odd"
            ),
            AssetCheckResult(check_name="must_be_ok", passed=True),
        ]
    )


WATCHED_DEFS = Definitions(assets=[watched], jobs=[define_asset_job("watched_job", [watched])])


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def fail_a_run(instance, tags=None) -> str:
    result = materialize(
        [ingest_one],
        instance=instance,
        raise_on_error=False,
        tags={"orders/first_key": BAD_KEY, "orders/files": "1", **(tags or {})},
    )
    assert not result.success
    return result.run_id


def tick(sensor, instance, cursor, url, repository_def=None, **settings):
    webhook = AlertWebhook(url=url, **{"backoff_seconds": 0.05, **settings})
    with build_sensor_context(
        instance=instance, cursor=cursor, resources={"alert_webhook": webhook}, repository_def=repository_def
    ) as context:
        return sensor(context)


def test_one_alert_per_failed_run_and_never_twice(instance, webhook):
    before = fail_a_run(instance)  # before the sensor ever ran: not alerted (no backlog on first start)
    first = tick(run_failure_alerts, instance, None, webhook.url)
    assert first.skip_reason.skip_message.startswith("First tick: alerting on failures from now on")
    run_id = fail_a_run(instance)
    second = tick(run_failure_alerts, instance, first.cursor, webhook.url)
    assert [r["body"]["run_id"] for r in webhook.received] == [run_id] and before != run_id
    alert = webhook.received[0]["body"]
    assert alert["alert"] == "run_failure" and alert["job"] == "__ephemeral_asset_job__"
    assert alert["failed_steps"] == ["ingest_one"] and alert["object_key"] == BAD_KEY
    assert alert["summary"] == f"1 file(s) could not be ingested (the others were): {BAD_KEY}: missing columns: amount"
    assert alert["url"] == f"http://localhost:3000/runs/{run_id}"
    assert second.skip_reason.skip_message == "1 alert(s) sent, 0 pending."
    # The next tick, and a daemon restart (a new evaluation from the stored cursor), send nothing.
    third = tick(run_failure_alerts, instance, second.cursor, webhook.url)
    tick(run_failure_alerts, instance, third.cursor, webhook.url)
    assert len(webhook.received) == 1


def test_a_webhook_that_is_down_keeps_the_alert_for_the_next_tick(instance, webhook):
    cursor = tick(run_failure_alerts, instance, None, webhook.url).cursor
    run_id = fail_a_run(instance)
    webhook.answers = [500, 502, 503]
    down = tick(run_failure_alerts, instance, cursor, webhook.url)
    assert down.skip_reason.skip_message.startswith("0 alert(s) sent, 1 pending (last error:")
    assert "HTTP 503" in down.skip_reason.skip_message
    back = tick(run_failure_alerts, instance, down.cursor, webhook.url)
    assert [r["answer"] for r in webhook.received] == [500, 502, 503, 200]
    assert webhook.received[-1]["body"]["run_id"] == run_id
    assert back.skip_reason.skip_message == "1 alert(s) sent, 0 pending."
    tick(run_failure_alerts, instance, back.cursor, webhook.url)
    assert len(webhook.received) == 4


def test_an_alert_the_webhook_refuses_does_not_hold_up_the_others(instance, webhook):
    cursor = tick(run_failure_alerts, instance, None, webhook.url).cursor
    first, second = fail_a_run(instance), fail_a_run(instance)
    webhook.answers = [400]
    result = tick(run_failure_alerts, instance, cursor, webhook.url)
    assert [(r["body"]["run_id"], r["answer"]) for r in webhook.received] == [(first, 400), (second, 200)]
    assert (
        result.skip_reason.skip_message == "1 alert(s) sent, 1 pending (last error: "
        f"http://127.0.0.1:{webhook.server.server_address[1]}: HTTP 400)."
    )


def test_a_tick_never_takes_longer_than_its_budget(instance, webhook, monkeypatch, simulated_time):
    monkeypatch.setattr(alert_tick, "TICK_BUDGET_SECONDS", 1.0)
    cursor = tick(run_failure_alerts, instance, None, webhook.url).cursor
    for _ in range(3):
        fail_a_run(instance)
    webhook.answers, webhook.hang_seconds = ["hang"] * 20, 3.0
    posts = TimedPosts(monkeypatch, simulated_time)  # each hung POST costs its whole timeout
    hook = AlertWebhook(url=webhook.url, timeout_seconds=0.25, backoff_seconds=0.125)
    with build_sensor_context(instance=instance, cursor=cursor) as context:
        result = alert_tick.alert_tick(
            context, hook, collect_run_failures, clock=simulated_time.clock, sleep=simulated_time.sleep
        )
    assert "3 pending" in result.skip_reason.skip_message
    # Two whole timeouts and their back-offs, then a last POST cut to what was left of the budget.
    assert posts.timeouts == [0.25, 0.25, 0.125] and simulated_time.sleeps == [0.125, 0.25]
    assert simulated_time.now == 1.0


def test_without_a_url_the_sensor_skips_with_the_reason_and_keeps_no_backlog(instance, webhook):
    cursor = tick(run_failure_alerts, instance, None, None).cursor
    fail_a_run(instance)
    off = tick(run_failure_alerts, instance, cursor, "")
    assert off.skip_reason.skip_message == "ALERT_WEBHOOK_URL is not set, so alerts are off (1 failure(s) not sent)."
    tick(run_failure_alerts, instance, off.cursor, webhook.url)  # switched on later: the old failure stays unsent
    assert webhook.received == []


def test_secrets_in_the_error_are_redacted(instance, webhook, monkeypatch):
    monkeypatch.setenv("ORDERS_DB_PASSWORD", "orders-db-secret-value")

    @asset(name="leaky")
    def leaky():
        raise RuntimeError("could not connect: password orders-db-secret-value refused by postgresql://w:pw@db/x")

    cursor = tick(run_failure_alerts, instance, None, webhook.url).cursor
    materialize([leaky], instance=instance, raise_on_error=False)
    tick(run_failure_alerts, instance, cursor, webhook.url)
    text = str(webhook.received[0]["body"])
    assert "orders-db-secret-value" not in text and "w:pw" not in text
    assert "[redacted ORDERS_DB_PASSWORD]" in text
    assert webhook.received[0]["body"]["summary"].startswith("RuntimeError: could not connect: password")


def test_a_failed_non_blocking_check_alerts_once(instance, webhook):
    repository = WATCHED_DEFS.get_repository_def()
    cursor = tick(asset_alerts, instance, None, webhook.url, repository).cursor
    WATCHED_DEFS.resolve_job_def("watched_job").execute_in_process(instance=instance)
    result = tick(asset_alerts, instance, cursor, webhook.url, repository)
    bodies = [r["body"] for r in webhook.received]
    assert [(b["alert"], b["check"], b["severity"], b["summary"]) for b in bodies] == [
        ("asset_check_failure", "looks_ok", "WARN", "3 rows look odd")
    ]
    assert bodies[0]["url"].startswith("http://localhost:3000/runs/")
    tick(asset_alerts, instance, result.cursor, webhook.url, repository)
    assert len(webhook.received) == 1


def test_an_asset_that_turns_stale_alerts_once_per_breach(instance, webhook):
    repository = WATCHED_DEFS.get_repository_def()

    def change(new, previous):
        instance.report_runless_asset_event(
            FreshnessStateChange(
                key=AssetKey("watched"), new_state=new, previous_state=previous, state_change_timestamp=time.time()
            )
        )

    cursor = tick(asset_alerts, instance, None, webhook.url, repository).cursor
    change(FreshnessState.PASS, FreshnessState.UNKNOWN)
    cursor = tick(asset_alerts, instance, cursor, webhook.url, repository).cursor
    assert webhook.received == []
    change(FreshnessState.FAIL, FreshnessState.PASS)
    cursor = tick(asset_alerts, instance, cursor, webhook.url, repository).cursor
    cursor = tick(asset_alerts, instance, cursor, webhook.url, repository).cursor
    assert [(r["body"]["alert"], r["body"]["asset"]) for r in webhook.received] == [("freshness_failure", "watched")]
    assert webhook.received[0]["body"]["summary"] == (
        "watched breaks its freshness policy: a materialization at least every 60 minutes."
    )
    change(FreshnessState.PASS, FreshnessState.FAIL)
    change(FreshnessState.FAIL, FreshnessState.PASS)  # a second breach: a second alert
    tick(asset_alerts, instance, cursor, webhook.url, repository)
    assert len(webhook.received) == 2
