"""A real browser for the tests: Debian's chromium, headless, driven by Playwright (which
never downloads a browser of its own here). `scripts/test` installs chromium if it is missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("SAMVERKAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags chromium tries to reach Google's services at start
# and the offline machine makes it fail.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RENDER_TIMEOUT_MS = 30_000


@contextmanager
def chromium() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"chromium not found at {CHROMIUM}; scripts/test installs it (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def new_page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own: no cookie or storage carries over between tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    try:
        yield context.new_page()
    finally:
        context.close()


def open_artifact(page: Page, ui_url: str, key: str) -> None:
    """Opens the newest version of the artifact `key` in the Prefect UI (V1) and returns once
    its content is on the page.

    `/artifacts/key/KEY` lists the versions, newest first, without their content; each links
    to `/artifacts/artifact/ID`, which shows it."""
    page.goto(f"{ui_url.rstrip('/')}/artifacts/key/{quote(key, safe='')}")
    newest = page.locator("a[href*='/artifacts/artifact/']").first
    newest.wait_for(timeout=RENDER_TIMEOUT_MS)
    newest.click()
    page.wait_for_url("**/artifacts/artifact/**", timeout=RENDER_TIMEOUT_MS)
    # The content arrives after the page itself: wait for text in its container.
    page.wait_for_function(
        "() => document.querySelector('.artifact-data-view')?.innerText.trim().length > 0",
        timeout=RENDER_TIMEOUT_MS,
    )
