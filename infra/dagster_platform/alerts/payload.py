"""The alert messages: one JSON object per failure, and its Slack incoming-webhook form.

Built from plain values (the sensors extract them from Dagster's records), so what an
alert says is testable on its own. ``id`` is what the sensors deduplicate on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .redaction import redact_all

FORMATS = ("json", "slack")
MAX_SUMMARY = 500
# Tags the orders file_sensor puts on its runs (orders/sensors.py), and Dagster's partition tags.
OBJECT_KEY_TAG = "orders/first_key"
FILES_TAG = "orders/files"
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def summarize(text: str | None, limit: int = MAX_SUMMARY) -> str:
    """One line of at most ``limit`` characters: no traceback, no run of whitespace."""
    line = re.sub(r"\s+", " ", (text or "").split("\nStack Trace:")[0]).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def _link(ui_url: str, path: str) -> str:
    return f"{ui_url.rstrip('/')}/{path}"


def _asset_path(asset: str) -> str:
    return "assets/" + "/".join(quote(part, safe="") for part in asset.split("/"))


# Details shown under the title (Slack fields, the plain-text body), in this order, when present.
DETAILS = {
    "job": "Job",
    "run_id": "Run",
    "steps": "Failed steps",
    "object_key": "Object key",
    "partition": "Partition",
    "asset": "Asset",
    "check": "Check",
    "policy": "Policy",
}


def _finish(alert: dict) -> dict:
    """Add ``body``, the alert as plain text (for mail and chat gateways), and redact it all."""
    details = [f"{label}: {alert[key]}" for key, label in DETAILS.items() if alert.get(key) not in (None, "")]
    alert["body"] = "\n".join([alert["summary"], "", *details, "", alert["url"]])
    return redact_all(alert)


def run_failure(
    *,
    location: str | None,
    job: str,
    run_id: str,
    failed_steps: Sequence[str],
    error: str | None,
    tags: Mapping[str, str],
    ui_url: str,
    timestamp: float,
) -> dict:
    """A failed run: what failed, where (partition, object key), and the link to the run."""
    partition = tags.get(PARTITION_TAG)
    if partition is None and all(tag in tags for tag in RANGE_TAGS):
        partition = "...".join(tags[tag] for tag in RANGE_TAGS)
    object_key = tags.get(OBJECT_KEY_TAG)
    files = int(tags[FILES_TAG]) if (tags.get(FILES_TAG) or "").isdigit() else None
    if object_key:
        where = f" for {object_key}" + (f" and {files - 1} more file(s)" if files and files > 1 else "")
    else:
        where = f" for partition {partition}" if partition else ""
    return _finish(
        {
            "alert": "run_failure",
            "id": f"run_failure:{run_id}",
            "title": f"Run failed: {job}{where}",
            "summary": summarize(error) or "The run failed without an error message.",
            "location": location,
            "job": job,
            "run_id": run_id,
            "failed_steps": list(failed_steps),
            "steps": ", ".join(failed_steps) or "none (the run itself failed)",
            "partition": partition,
            "object_key": object_key,
            "files": files,
            "url": _link(ui_url, f"runs/{run_id}"),
            "time": _iso(timestamp),
        }
    )


def check_failure(
    *,
    asset: str,
    check: str,
    severity: str,
    description: str | None,
    run_id: str | None,
    partition: str | None,
    execution_id: int,
    ui_url: str,
    timestamp: float,
) -> dict:
    """A failed non-blocking asset check (a blocking one fails its run: a run_failure alert)."""
    return _finish(
        {
            "alert": "asset_check_failure",
            "id": f"asset_check_failure:{asset}:{check}:{execution_id}",
            "title": f"Asset check failed: {asset} / {check} ({severity})",
            "summary": summarize(description) or f"{check} did not pass.",
            "asset": asset,
            "check": check,
            "severity": severity,
            "run_id": run_id,
            "partition": partition,
            "url": _link(ui_url, f"runs/{run_id}") if run_id else _link(ui_url, _asset_path(asset) + "?view=checks"),
            "time": _iso(timestamp),
        }
    )


def freshness_failure(*, asset: str, policy: str, ui_url: str, timestamp: float) -> dict:
    """An asset whose freshness state turned FAIL (the freshness daemon evaluates it)."""
    return _finish(
        {
            "alert": "freshness_failure",
            "id": f"freshness_failure:{asset}:{timestamp:.3f}",
            "title": f"Asset is not fresh: {asset}",
            "summary": f"{asset} breaks its freshness policy: {policy}.",
            "asset": asset,
            "policy": policy,
            "url": _link(ui_url, _asset_path(asset)),
            "time": _iso(timestamp),
        }
    )


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_slack(alert: Mapping) -> dict:
    """Slack incoming-webhook JSON: ``text`` (notifications, fallback) and ``blocks``."""
    fields: list[dict[str, Any]] = [
        {"type": "mrkdwn", "text": f"*{label}*\n{_mrkdwn(str(alert[key]))}"}
        for key, label in DETAILS.items()
        if alert.get(key) not in (None, "")
    ][:10]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(f"{alert['title']}\n{alert['summary']}")[:3000]}}
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"<{alert['url']}|Open in Dagster> · {alert['time']}"}],
        }
    )
    return {"text": f"{alert['title']}: {alert['summary']}"[:3000], "blocks": blocks}


def render(alert: Mapping, fmt: str) -> dict:
    """The body POSTed for ``alert`` in ``fmt`` (ALERT_FORMAT)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown alert format {fmt!r}: one of {', '.join(FORMATS)}")
    return as_slack(alert) if fmt == "slack" else dict(alert)
