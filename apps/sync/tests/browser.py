"""What the browser tests share: Debian's Chromium driven by Playwright and their marks; the
fixtures ``browser_page`` and ``shots`` (this folder's conftest.py) are built here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

BROWSER_TEST_MARKS = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is missing (Debian package 'chromium'; .ci/run "
                              "installs it)"),
]


def screenshot_folder() -> Path:
    """$EVOSYNC_SCREENSHOTS, else a temporary directory: a screenshot per step, to look at."""
    folder = Path(os.environ.get("EVOSYNC_SCREENSHOTS") or tempfile.mkdtemp(prefix="evosync-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(monkeypatch) -> Iterator:
    """A Russian-locale Chromium page; ``page.errors`` collects console errors and uncaught
    page exceptions."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse ORM calls here ("async context"); the test's own queries are plain and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
        browser.close()
        playwright.stop()
