"""What an alert says, in JSON and in Slack's form."""

import json

import pytest

from dagster_platform.alerts import payload

T = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ORDERS_TAGS = {
    "orders/mode": "files",
    "orders/files": "1",
    "orders/first_key": "incoming/orders/bad.csv",
    "dagster/run_key": "orders:abc",
}


def orders_alert(**overrides):
    arguments = dict(
        location="orders_and_sales",
        job="daily_pipeline",
        run_id="1234-abcd",
        failed_steps=["raw_orders"],
        error="1 file(s) could not be ingested (the others were): incoming/orders/bad.csv: missing columns: amount",
        tags=ORDERS_TAGS,
        ui_url="http://localhost:3000/",
        timestamp=T,
    )
    return payload.run_failure(**{**arguments, **overrides})


def test_run_failure_names_job_run_steps_file_error_and_link():
    alert = orders_alert()
    assert alert == {
        "alert": "run_failure",
        "id": "run_failure:1234-abcd",
        "title": "Run failed: daily_pipeline for incoming/orders/bad.csv",
        "summary": "1 file(s) could not be ingested (the others were): incoming/orders/bad.csv: missing columns: amount",
        "location": "orders_and_sales",
        "job": "daily_pipeline",
        "run_id": "1234-abcd",
        "failed_steps": ["raw_orders"],
        "steps": "raw_orders",
        "partition": None,
        "object_key": "incoming/orders/bad.csv",
        "files": 1,
        "url": "http://localhost:3000/runs/1234-abcd",
        "time": "2027-01-15T08:00:00+00:00",
        "body": "1 file(s) could not be ingested (the others were): incoming/orders/bad.csv: missing columns: amount\n\n"
        "Job: daily_pipeline\nRun: 1234-abcd\nFailed steps: raw_orders\nObject key: incoming/orders/bad.csv\n\n"
        "http://localhost:3000/runs/1234-abcd",
    }
    assert json.loads(json.dumps(alert)) == alert


def test_run_failure_with_a_partition_or_a_range_and_several_files():
    daily = payload.run_failure(
        location=None,
        job="daily_sales_job",
        run_id="r",
        failed_steps=[],
        error=None,
        tags={"dagster/partition": "2024-01-02"},
        ui_url="http://ui",
        timestamp=T,
    )
    assert (
        daily["partition"] == "2024-01-02" and daily["title"] == "Run failed: daily_sales_job for partition 2024-01-02"
    )
    assert daily["summary"] == "The run failed without an error message."
    assert daily["steps"] == "none (the run itself failed)"
    ranged = payload.run_failure(
        location=None,
        job="j",
        run_id="r",
        failed_steps=["a"],
        error="x",
        ui_url="http://ui",
        tags={"dagster/asset_partition_range_start": "2024-01-01", "dagster/asset_partition_range_end": "2024-12-31"},
        timestamp=T,
    )
    assert ranged["partition"] == "2024-01-01...2024-12-31"
    batch = orders_alert(tags={**ORDERS_TAGS, "orders/files": "7"})
    assert batch["files"] == 7 and batch["title"].endswith("for incoming/orders/bad.csv and 6 more file(s)")


def test_the_summary_is_one_short_line_without_the_stack_trace():
    long = "boom\n  at line 1\n" + "x" * 2000 + "\nStack Trace:\n  File 'a.py'"
    summary = payload.summarize(long)
    assert len(summary) == payload.MAX_SUMMARY and summary.startswith("boom at line 1 xxx") and summary.endswith("…")
    assert "Stack Trace" not in payload.summarize("bad thing\nStack Trace:\n File x")


def test_secrets_never_reach_the_payload(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DB_PASSWORD", "very-secret-warehouse")
    alert = orders_alert(
        error="cannot connect to postgresql://reader:very-secret-warehouse@postgres/warehouse",
        tags={**ORDERS_TAGS, "orders/first_key": "incoming/orders/very-secret-warehouse.csv"},
    )
    text = json.dumps(alert)
    assert "very-secret-warehouse" not in text and "reader:" not in text
    assert "[redacted]@postgres/warehouse" in text and "[redacted WAREHOUSE_DB_PASSWORD]" in text


def test_check_and_freshness_alerts():
    check = payload.check_failure(
        asset="orders_summary",
        check="fresh_enough",
        severity="WARN",
        description=None,
        run_id=None,
        partition=None,
        execution_id=7,
        ui_url="http://ui",
        timestamp=T,
    )
    assert check["id"] == "asset_check_failure:orders_summary:fresh_enough:7"
    assert (
        check["summary"] == "fresh_enough did not pass."
        and check["url"] == "http://ui/assets/orders_summary?view=checks"
    )
    stale = payload.freshness_failure(
        asset="a/b c", policy="a materialization at least every 60 minutes", ui_url="http://ui", timestamp=T
    )
    assert stale["title"] == "Asset is not fresh: a/b c" and stale["url"] == "http://ui/assets/a/b%20c"
    assert stale["id"] == f"freshness_failure:a/b c:{T:.3f}"


def test_slack_payload_has_text_and_blocks():
    body = payload.render({**orders_alert(), "summary": "a <b> & c"}, "slack")
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith("Run failed: daily_pipeline for incoming/orders/bad.csv: a <b> & c")
    section, fields, context = body["blocks"]
    assert section["type"] == "section" and "a &lt;b&gt; &amp; c" in section["text"]["text"]
    labels = [f["text"].split("\n")[0] for f in fields["fields"]]
    assert labels == ["*Job*", "*Run*", "*Failed steps*", "*Object key*"]
    assert context["elements"][0]["text"].startswith("<http://localhost:3000/runs/1234-abcd|Open in Dagster>")
    assert payload.render(orders_alert(), "json") == orders_alert()
    with pytest.raises(ValueError):
        payload.render(orders_alert(), "xml")
