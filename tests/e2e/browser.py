"""Headless Chromium for the UI tests: Debian's browser driven by Playwright, signed in on
the gateway's login page as a colleague would be (no basic-auth shortcut)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .session import e2e_required
from tooling.stack import UI, Stack


@contextmanager
def chromium(request) -> Iterator:
    """A launched browser; skips (or fails, when e2e is required) without Debian's chromium."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        message = "no chromium on PATH (Debian: apt-get install -y chromium)"
        if e2e_required(request.config):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page, stack: Stack, path: str = "/runs") -> None:
    """Open ``path``, get sent to the login page, sign in as the first admin, land on ``path``."""
    page.goto(f"{UI}{path}")
    assert "/login" in page.url, f"{path} opened without signing in: {page.url}"
    page.fill("input[name=name]", stack.env["DAGSTER_UI_USER"])
    page.fill("input[name=password]", stack.env["DAGSTER_UI_PASSWORD"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{UI}{path}", timeout=30_000)
