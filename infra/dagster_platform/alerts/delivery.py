"""Posting alerts: the webhook resource, with retries and a hard time budget.

A webhook that is down must never fail or delay a pipeline run. Alerts are posted by
sensors (evaluated for the daemon by the code server, never inside a run), each POST
has a timeout, 5xx / 429 / timeouts / refused connections are retried with exponential
backoff, and the whole tick stops at its deadline: what is not delivered by then stays
pending in the sensor's cursor (see state.py).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from dagster import ConfigurableResource, EnvVar
from ..variables import ConfigurationError, setting
from pydantic import Field

from .payload import FORMATS, render
from .redaction import redact

RETRIED_STATUSES = {408, 425, 429}


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    detail: str
    """What happened, safe to log: status codes and error classes, never the URL's path or query."""
    retriable: bool = False
    """The webhook is down or overloaded (timeouts, refused, 5xx, 429), rather than refusing this alert (4xx)."""


class AlertWebhook(ConfigurableResource):
    """Where alerts go: ``url`` (ALERT_WEBHOOK_URL; unset or empty: alerts are off), the
    body ``format`` (ALERT_FORMAT: json, or slack for a Slack incoming webhook) and the
    UI address the alerts link to (DAGSTER_UI_URL)."""

    url: Optional[str] = None
    format: str = "json"
    ui_url: str = "http://localhost:3000"
    timeout_seconds: float = Field(default=5.0, description="Timeout of one POST.")
    attempts: int = Field(default=3, description="POSTs per alert and tick, at most.")
    backoff_seconds: float = Field(default=0.5, description="Wait before the first retry; doubles each time.")

    def enabled(self) -> bool:
        return bool((self.url or "").strip())

    def target(self) -> str:
        """The webhook's scheme and host, for logs (a Slack webhook's path is its secret)."""
        parts = urlsplit((self.url or "").strip())
        return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")

    def deliver(
        self,
        alert: dict,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Delivery:
        """POST ``alert`` until it is accepted (2xx), a retry cannot help, or ``deadline``
        (a value of ``clock()``) comes; waits between retries with ``sleep``. Never raises
        for a network or HTTP failure."""
        if self.format not in FORMATS:
            return Delivery(False, 0, f"ALERT_FORMAT={self.format!r} is not one of {', '.join(FORMATS)}")
        body = json.dumps(render(alert, self.format)).encode()
        detail, attempt, wait, retry = "not tried: no time left in this tick", 0, self.backoff_seconds, True
        while attempt < self.attempts:
            remaining = deadline - clock()
            if remaining <= 0.05:
                break
            attempt += 1
            retry, detail = self._post(body, min(self.timeout_seconds, remaining))
            if detail == "ok":
                return Delivery(True, attempt, f"delivered to {self.target()}")
            if not retry or attempt == self.attempts or clock() + wait >= deadline:
                break
            sleep(wait)
            wait *= 2
        return Delivery(False, attempt, f"{self.target()}: {detail}", retriable=retry)

    def _post(self, body: bytes, timeout: float) -> tuple[bool, str]:
        """(worth retrying, "ok" or what went wrong)."""
        request = urllib.request.Request(
            (self.url or "").strip(),
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "dagster-platform-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(65536)
                return False, "ok"
        except urllib.error.HTTPError as error:
            return error.code >= 500 or error.code in RETRIED_STATUSES, f"HTTP {error.code}"
        except ValueError:  # not a URL urllib can open
            return False, "ALERT_WEBHOOK_URL is not an http(s) URL"
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            kind = (
                "timeout" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else type(reason).__name__
            )
            return True, redact(f"{kind}: {reason}")[:200]


def alert_webhook() -> AlertWebhook:
    """Where alerts go, read when the definitions load. ``ALERT_WEBHOOK_URL`` may carry a
    token (Slack's does), so it is an ``EnvVar``, resolved when a sensor runs; unset or
    empty, the alert sensors skip, saying so. ``ALERT_FORMAT`` (json | slack) and
    ``DAGSTER_UI_URL`` (the links) are plain settings."""
    fmt = setting("ALERT_FORMAT").lower()
    if fmt not in FORMATS:
        raise ConfigurationError(f"ALERT_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}.")
    return AlertWebhook(
        url=EnvVar("ALERT_WEBHOOK_URL") if "ALERT_WEBHOOK_URL" in os.environ else None,
        format=fmt,
        ui_url=setting("DAGSTER_UI_URL"),
    )
