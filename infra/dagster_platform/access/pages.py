"""The gateway's own pages: login, sign-out and the admin's audit view. Plain HTML with
every value escaped; no script, so a strict Content-Security-Policy applies."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.responses import HTMLResponse

_HEAD = (
    "<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
    "<style>body{{font-family:sans-serif;max-width:60em;margin:3em auto}}td,th{{padding:.2em .6em;"
    "text-align:left;border-bottom:1px solid #ddd}}input{{display:block;margin:.4em 0 1em}}</style></head><body>"
)
_CSP = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    html = _HEAD.format(title=escape(title)) + body + "</body></html>"
    return HTMLResponse(html, status_code=status, headers={**_CSP, **(headers or {})})


def login(next_path: str, message: str = "", status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    notice = f"<p role='alert'>{escape(message)}</p>" if message else ""
    return page(
        "Sign in - Dagster",
        f"<h1>Sign in</h1>{notice}<form method='post' action='/login'>"
        f"<input type='hidden' name='next' value='{escape(next_path)}'>"
        "<label>Name<input name='name' autocomplete='username' required autofocus></label>"
        "<label>Password<input name='password' type='password' autocomplete='current-password' required></label>"
        "<button type='submit'>Sign in</button></form>",
        status,
        headers,
    )


def logout(name: str) -> HTMLResponse:
    return page(
        "Sign out - Dagster",
        f"<h1>Signed in as {escape(name)}</h1><form method='post' action='/logout'>"
        "<button type='submit'>Sign out</button></form><p><a href='/'>Back to Dagster</a></p>",
    )


def audit(rows: list[dict[str, Any]]) -> HTMLResponse:
    columns = (
        "at",
        "account",
        "role",
        "address",
        "via",
        "event",
        "outcome",
        "fields",
        "locations",
        "targets",
        "detail",
    )
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if row[c] is None else str(row[c]))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return page("Audit - Dagster", f"<h1>Audit trail (newest first)</h1><table><tr>{head}</tr>{body}</table>")
