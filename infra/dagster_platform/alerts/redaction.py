"""What an alert may say: every text goes through :func:`redact` before it leaves the process.

Alerts never carry run config (its values can come from the environment, ``{env: ...}``,
as ``check_requested_keys`` in orders/ingest.py explains), and on top of that every value
of a secret variable present in the process, and the credentials of any URL, are
replaced by a marker naming what was removed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# A variable is a secret when its name ends like this (AWS_SECRET_ACCESS_KEY, DAGSTER_PG_PASSWORD, ...).
SECRET_SUFFIXES = ("PASSWORD", "SECRET", "SECRET_ACCESS_KEY", "TOKEN")
# ... or is one of these: a Slack incoming-webhook URL is itself a credential.
SECRET_NAMES = ("ALERT_WEBHOOK_URL",)
# Shorter values would redact ordinary words and numbers.
MIN_SECRET_LENGTH = 4
URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@:]*(?::[^\s/@]*)?@")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return upper in SECRET_NAMES or upper.endswith(SECRET_SUFFIXES)


def secret_values(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(value, name) of every secret variable worth redacting, longest value first (a secret
    that contains another is replaced whole)."""
    found = {
        value: name
        for name, value in environ.items()
        if is_secret_name(name) and len(value.strip()) >= MIN_SECRET_LENGTH
    }
    return sorted(found.items(), key=lambda item: -len(item[0]))


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    text = URL_CREDENTIALS.sub(r"\g<scheme>[redacted]@", text)  # first: a marker has spaces
    for value, name in secret_values(environ):
        text = text.replace(value, f"[redacted {name}]")
    return text


def redact_all(value, environ: Mapping[str, str] | None = None):
    """``value`` (JSON-like: dicts, lists, strings) with every string redacted, keys too."""
    environ = os.environ if environ is None else environ
    if isinstance(value, str):
        return redact(value, environ)
    if isinstance(value, Mapping):
        return {redact(str(k), environ): redact_all(v, environ) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v, environ) for v in value]
    return value
