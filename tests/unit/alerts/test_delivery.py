"""Delivery against a real HTTP server: retries on 5xx and timeouts, never past the deadline.

Time is simulated (TimedPosts): the tests assert on the waits and the POST timeouts
that deliver() chose, not on how long the machine took."""

import time

import pytest

from dagster_platform.alerts.delivery import AlertWebhook

ALERT = {
    "id": "run_failure:1",
    "title": "Run failed: j",
    "summary": "boom",
    "url": "http://ui/runs/1",
    "time": "2027-01-15T08:00:00+00:00",
    "job": "j",
}


class TimedPosts:
    """Simulated time (the ``simulated_time`` fixture) where a (real) POST that times out
    costs the whole timeout it was given, as a hung webhook does; ``timeouts`` are the POST
    timeouts deliver() chose."""

    def __init__(self, monkeypatch, simulated_time):
        self.time, self.timeouts = simulated_time, []
        real_post = AlertWebhook._post

        def post(webhook, body, timeout):
            self.timeouts.append(timeout)
            retry, detail = real_post(webhook, body, timeout)
            if detail.startswith("timeout"):
                simulated_time.now += timeout
            return retry, detail

        monkeypatch.setattr(AlertWebhook, "_post", post)


@pytest.fixture
def simulated(monkeypatch, simulated_time) -> TimedPosts:
    return TimedPosts(monkeypatch, simulated_time)


def hook(url: str, **settings) -> AlertWebhook:
    return AlertWebhook(url=url, **{"backoff_seconds": 0.05, **settings})


def test_a_500_is_retried_then_delivered(webhook, simulated):
    webhook.answers = [500, 503]
    result = hook(webhook.url).deliver(ALERT, 10, simulated.time.clock, simulated.time.sleep)
    assert result.ok and result.attempts == 3
    assert [r["answer"] for r in webhook.received] == [500, 503, 200]
    assert all(r["body"] == ALERT for r in webhook.received)
    assert simulated.time.sleeps == [0.05, 0.1]  # exponential backoff


def test_a_timeout_is_retried(webhook, simulated):
    webhook.answers, webhook.hang_seconds = ["hang"], 2.0
    result = hook(webhook.url, timeout_seconds=0.3).deliver(ALERT, 10, simulated.time.clock, simulated.time.sleep)
    # Had the first POST waited for the hung answer (a 200 after 2 s), it would have been the only one.
    assert result.ok and result.attempts == 2
    assert [r["answer"] for r in webhook.received] == ["hang", 200]
    assert simulated.timeouts == [0.3, 0.3] and simulated.time.sleeps == [0.05]


def test_a_client_error_is_not_retried_within_the_tick(webhook):
    webhook.answers = [404]
    result = hook(webhook.url).deliver(ALERT, time.monotonic() + 10)
    assert not result.ok and result.attempts == 1 and result.detail.endswith("HTTP 404") and not result.retriable


def test_a_webhook_that_is_down_costs_at_most_the_deadline(webhook, simulated):
    webhook.answers, webhook.hang_seconds = ["hang"] * 10, 3.0
    result = hook(webhook.url, timeout_seconds=5, attempts=10).deliver(
        ALERT, 1.0, simulated.time.clock, simulated.time.sleep
    )
    assert not result.ok and "timeout" in result.detail and result.retriable
    # The one POST there was time for waited what was left until the deadline, not its 5 s.
    assert simulated.timeouts == [1.0] and simulated.time.sleeps == [] and simulated.time.now == 1.0


def test_nothing_listening_is_a_failure_not_an_exception():
    result = hook("http://127.0.0.1:9/hook", attempts=2).deliver(ALERT, time.monotonic() + 5)
    assert not result.ok and result.attempts == 2 and "127.0.0.1:9" in result.detail


def test_the_log_line_never_shows_the_webhook_path():
    secret_url = "http://127.0.0.1:9/services/T0/B0/very-secret-path"
    result = hook(secret_url, attempts=1).deliver(ALERT, time.monotonic() + 5)
    assert "very-secret-path" not in result.detail


def test_slack_format_posts_text_and_blocks(webhook):
    assert hook(webhook.url, format="slack").deliver(ALERT, time.monotonic() + 5).ok
    assert set(webhook.received[0]["body"]) == {"text", "blocks"}


def test_disabled_without_a_url():
    assert not AlertWebhook().enabled() and not AlertWebhook(url="  ").enabled()
