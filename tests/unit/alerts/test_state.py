"""The cursor's dedupe: an alert is queued once, kept until delivered, bounded."""

from dagster_platform.alerts import state as alert_state
from dagster_platform.alerts.state import AlertState


def alert(n: int) -> dict:
    return {"id": f"run_failure:{n}", "title": f"t{n}"}


def test_a_failure_found_again_is_not_queued_again():
    state = AlertState()
    state.queue([alert(1), alert(1), alert(2)], now=0)
    assert [i["alert"]["id"] for i in state.pending] == ["run_failure:1", "run_failure:2"]
    state.delivered("run_failure:1")
    state.queue([alert(1), alert(2)], now=1)  # e.g. found again after a cursor went back
    assert [i["alert"]["id"] for i in state.pending] == ["run_failure:2"]


def test_the_cursor_round_trips_and_survives_a_restart():
    state = AlertState(positions={"run_failure": 41})
    state.queue([alert(1), alert(2)], now=5)
    state.delivered("run_failure:1")
    state.failed("run_failure:2")
    again = AlertState.parse(state.dump())  # what the next tick (or a restarted daemon) reads
    assert again.started and again.positions == {"run_failure": 41}
    assert again.pending == [{"alert": alert(2), "tries": 1, "since": 5}]
    assert again.known("run_failure:1") and again.known("run_failure:2") and not again.known("run_failure:3")


def test_an_undeliverable_alert_is_given_up_after_max_ticks(monkeypatch):
    monkeypatch.setattr(alert_state, "MAX_TICKS", 3)
    state = AlertState()
    state.queue([alert(1)], now=0)
    assert [state.failed("run_failure:1") for _ in range(3)] == [False, False, True]
    assert state.pending == [] and state.known("run_failure:1")


def test_pending_is_bounded_oldest_dropped(monkeypatch):
    monkeypatch.setattr(alert_state, "MAX_PENDING", 2)
    state = AlertState()
    dropped = state.queue([alert(1), alert(2), alert(3)], now=0)
    assert dropped == [alert(1)] and [i["alert"]["id"] for i in state.pending] == ["run_failure:2", "run_failure:3"]


def test_recent_ids_are_bounded(monkeypatch):
    monkeypatch.setattr(alert_state, "RECENT", 3)
    state = AlertState()
    for n in range(5):
        state.queue([alert(n)], now=0)
        state.delivered(f"run_failure:{n}")
    assert state.recent == ["run_failure:2", "run_failure:3", "run_failure:4"]


def test_garbage_cursors_start_fresh():
    for cursor in (None, "", "not json", "[1, 2]"):
        assert AlertState.parse(cursor) == AlertState()
