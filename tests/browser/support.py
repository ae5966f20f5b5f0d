"""Headless Debian Chromium on the gateway's dashboard, for the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

#: Debian's chromium under Playwright (never `playwright install`: it downloads a browser).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("FIGWAY_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (FIGWAY_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@contextlib.contextmanager
def signed_in(executable: str, url: str, token: str, width: int, height: int) -> Iterator[Any]:
    """A page on ``url``'s dashboard, past the prompt for the admin ``token``, its board loaded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{url}/_gateway/")
            page.wait_for_selector("#token-input", state="visible")
            page.fill("#token-input", token)
            page.click("#token-form button[type=submit]")
            page.wait_for_selector("body[data-ready='1']")
            yield page
        finally:
            browser.close()
