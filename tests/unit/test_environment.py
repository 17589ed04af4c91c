"""The deployment -> resources mapping, and the alert webhook's settings."""

import pytest

from dagster_platform import environment
from dagster_platform.alerts.delivery import alert_webhook
from orders_and_sales.sample_data import _main as sample_data
from dagster_platform.environment import DOCKER_VARIABLES, ConfigurationError, resources_for
from dagster_platform.resources import LocalObjectStore, S3ObjectStore

DOCKER_ENV = {name: f"value-of-{name.lower()}" for name in DOCKER_VARIABLES} | {"WAREHOUSE_DB_PORT": "5432"}


def test_unknown_deployment_is_refused(monkeypatch):
    monkeypatch.setenv("DAGSTER_DEPLOYMENT", "prod")
    with pytest.raises(ConfigurationError, match="'prod' is not one of local, docker"):
        environment.current_deployment()


def test_docker_names_every_missing_or_empty_variable(monkeypatch):
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("WAREHOUSE_DB_PASSWORD", "  ")
    with pytest.raises(ConfigurationError) as error:
        resources_for("docker")
    assert "variables: WAREHOUSE_DB_PASSWORD, AWS_SECRET_ACCESS_KEY." in str(error.value)  # exactly these two
    assert "value-of" not in str(error.value)


def test_docker_resources_read_secrets_through_envvar(monkeypatch):
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)
    resources = resources_for("docker")
    store = resources["object_store"]
    assert isinstance(store, S3ObjectStore)
    # EnvVar keeps the variable's name, not its value, in the definitions.
    assert store.s3.aws_secret_access_key == "AWS_SECRET_ACCESS_KEY"
    assert resources["warehouse"].password == "WAREHOUSE_DB_PASSWORD"


def test_local_resources_create_nothing_and_seeding_is_an_explicit_step(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("LOCAL_DATA_DIR", str(data))
    resources = resources_for("local")
    assert isinstance(resources["object_store"], LocalObjectStore)
    assert not data.exists()
    sample_data(["seed-local"])  # what `make dev` runs before it starts
    products = resources["warehouse"].read_frame("SELECT count(*) AS n FROM products")
    assert products["n"].item() == 6
    stamp = (data / "warehouse.db").stat().st_mtime_ns
    sample_data(["seed-local"])
    assert (data / "warehouse.db").stat().st_mtime_ns == stamp


def test_schedule_timezone_from_environment(monkeypatch):
    monkeypatch.setenv("SCHEDULE_TIMEZONE", "Europe/Berlin")
    assert environment.schedule_timezone() == "Europe/Berlin"
    for unset in ("", "  "):
        monkeypatch.setenv("SCHEDULE_TIMEZONE", unset)
        assert environment.schedule_timezone() == "UTC"


def test_the_alert_webhook_url_is_an_envvar_and_optional(monkeypatch):
    for name, value in DOCKER_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("ALERT_WEBHOOK_URL", "ALERT_FORMAT", "DAGSTER_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    off = alert_webhook()
    assert off.url is None and not off.enabled() and off.format == "json" and off.ui_url == "http://localhost:3000"
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "https://hooks.example.com/T/B/secret-path")
    monkeypatch.setenv("ALERT_FORMAT", "Slack")
    monkeypatch.setenv("DAGSTER_UI_URL", "https://dagster.example.com")
    on = alert_webhook()
    assert on.url == "ALERT_WEBHOOK_URL"  # the name, resolved when a sensor runs
    assert on.format == "slack" and on.ui_url == "https://dagster.example.com"


def test_an_unknown_alert_format_is_refused_at_load(monkeypatch):
    monkeypatch.setenv("ALERT_FORMAT", "xml")
    with pytest.raises(ConfigurationError, match="ALERT_FORMAT='xml' is not one of json, slack"):
        alert_webhook()
