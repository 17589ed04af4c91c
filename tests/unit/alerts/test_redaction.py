"""Nothing secret leaves in an alert: secret variables' values and URL credentials."""

from dagster_platform.alerts.redaction import is_secret_name, redact, redact_all

ENV = {
    "DAGSTER_PG_PASSWORD": "pg-Secret-123456",
    "AWS_SECRET_ACCESS_KEY": "aws/Secret+Key",
    "COMPUTE_LOGS_SECRET_ACCESS_KEY": "logs-secret-value",
    "GITHUB_TOKEN": "ghp_abcdef",
    "CLIENT_SECRET": "client-secret-1",
    "ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
    "AWS_ACCESS_KEY_ID": "pipelines",  # a name, not a secret
    "SHORT_PASSWORD": "abc",  # too short to redact without mangling words
}


def test_secret_names():
    assert all(
        is_secret_name(n)
        for n in ("DAGSTER_PG_PASSWORD", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "CLIENT_SECRET", "alert_webhook_url")
    )
    assert not any(is_secret_name(n) for n in ("AWS_ACCESS_KEY_ID", "DAGSTER_PG_USER", "S3_BUCKET"))


def test_every_secret_value_is_replaced_by_its_name():
    text = (
        "connect failed for pg-Secret-123456 with aws/Secret+Key, logs-secret-value, ghp_abcdef, "
        "client-secret-1 posting to https://hooks.slack.com/services/T000/B000/XXXX as pipelines abc"
    )
    out = redact(text, ENV)
    for name, value in ENV.items():
        if name not in ("AWS_ACCESS_KEY_ID", "SHORT_PASSWORD"):
            assert value not in out
            assert f"[redacted {name}]" in out
    assert "as pipelines abc" in out


def test_a_secret_containing_another_is_replaced_whole():
    env = {"A_PASSWORD": "secret-part", "B_TOKEN": "xx-secret-part-yy"}
    assert redact("x xx-secret-part-yy y", env) == "x [redacted B_TOKEN] y"


def test_credentials_in_urls_are_removed_whatever_the_environment():
    out = redact(
        "postgresql://dagster:hunter2@postgres:5432/db and s3://KEY:SEC@minio/bucket "
        "and https://token@example.com/x but not user@example.com",
        {},
    )
    assert "hunter2" not in out and "KEY:SEC" not in out and "token@" not in out
    assert "postgresql://[redacted]@postgres:5432/db" in out
    assert "https://[redacted]@example.com/x" in out
    assert "user@example.com" in out


def test_redact_all_walks_the_payload():
    alert = {"summary": "pg-Secret-123456", "nested": [{"k": "ghp_abcdef"}], "count": 3, "none": None}
    assert redact_all(alert, ENV) == {
        "summary": "[redacted DAGSTER_PG_PASSWORD]",
        "nested": [{"k": "[redacted GITHUB_TOKEN]"}],
        "count": 3,
        "none": None,
    }
