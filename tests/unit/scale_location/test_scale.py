"""The scale domain without Docker: the fan-out through the real IO manager, and the
Celery settings the executor and the workers share."""

import socket

import pytest
from dagster import materialize

from dagster_platform.io_managers import ParquetIOManager
from scale import broker
from scale.defs.assets import PARTS, SCALE_PARTS, part_name, scale_total


@pytest.fixture
def broker_env(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_PASSWORD", "s3cret-with.chars_~")
    monkeypatch.setenv("CELERY_BROKER_HOST", "broker.example")
    monkeypatch.delenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", raising=False)


def test_fan_out_and_fan_in_share_data_through_the_object_store(s3_store):
    result = materialize(
        [*SCALE_PARTS, scale_total],
        resources={"io_manager": ParquetIOManager(store=s3_store)},
        run_config={"ops": {part_name(i): {"config": {"seconds": 0}} for i in range(PARTS)}},
    )
    assert result.success
    total = result.output_for_node("scale_total")
    assert total["part"].tolist() == list(range(PARTS))
    assert set(total["host"]) == {socket.gethostname()}
    assert s3_store.get_bytes("lake/scale_total.parquet")
    hosts = [m.metadata["host"].value for m in result.asset_materializations_for_node(part_name(0))]
    assert hosts == [socket.gethostname()]


def test_broker_url_from_the_environment(broker_env):
    assert broker.broker_url() == "redis://:s3cret-with.chars_~@broker.example:6379/0"
    assert broker.broker_url(broker.RESULTS_DB).endswith("/1")


def test_password_is_quoted_into_the_url(broker_env, monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_PASSWORD", "a/b@c:d")
    assert broker.broker_url() == "redis://:a%2Fb%40c%3Ad@broker.example:6379/0"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_password_is_an_error_naming_it(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CELERY_BROKER_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("CELERY_BROKER_PASSWORD", value)
    with pytest.raises(RuntimeError, match="CELERY_BROKER_PASSWORD"):
        broker.broker_url()


def test_steps_are_acknowledged_late_and_redelivered_after_the_timeout(broker_env, monkeypatch):
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT_SECONDS", "42")
    source = broker.celery_settings()["config_source"]
    assert source["task_acks_late"] is True
    assert source["task_reject_on_worker_lost"] is True
    options = source["broker_transport_options"]
    assert options["visibility_timeout"] == 42
    # kombu scans for such steps every interval x throttle seconds.
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 10


def test_the_workers_and_the_executor_build_the_same_app(broker_env):
    """Workers and run workers must agree on broker, backend and delivery rules."""
    from dagster_celery.make_app import make_app

    from scale import executor, worker  # the app is built at import, from broker_env

    assert executor.celery_executor.name == "celery"
    run_side = make_app(executor.CeleryExecutor.for_cli(**broker.celery_settings()).app_args())
    for key in ("broker_url", "result_backend", "task_acks_late", "broker_transport_options", "task_default_queue"):
        assert worker.app.conf[key] == run_side.conf[key], key
    assert worker.app.conf.task_default_queue == broker.QUEUE
    assert "execute_plan" in worker.app.tasks
