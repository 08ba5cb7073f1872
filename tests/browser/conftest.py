"""A real Chromium (Debian's, through Playwright) pointed at pytest-django's live server."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Milliseconds. Every step is local, so a few seconds is generous; a hang fails fast.
STEP_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000
LAUNCH_TIMEOUT_MS = 20_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(request, live_server, monkeypatch):
    """A fresh browser context on the live server (base_url set), closed after the test.

    A screenshot of the page is saved under var/browser-failures/ when the test fails.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "package (`make browser-deps`, or `apt-get install chromium`).",
            pytrace=False,
        )
    # Playwright's sync API keeps an event loop running in this thread; without this the
    # ORM calls of the test body raise SynchronousOnlyOperation. Restored after the test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    expect.set_options(timeout=STEP_TIMEOUT_MS)

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
            )
        except PlaywrightError as exc:
            pytest.fail(f"Could not start Chromium at {CHROMIUM}: {exc}", pytrace=False)
        try:
            context = browser.new_context(base_url=live_server.url)
            # Nothing in the tests needs the favicon; answering it here keeps the browser's
            # background request off the live server (and its shared test database).
            context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
            browser_page = context.new_page()
            browser_page.set_default_timeout(STEP_TIMEOUT_MS)
            browser_page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
            yield browser_page
            report = getattr(request.node, "rep_call", None)
            if report is not None and report.failed:
                _screenshot(browser_page, request.node.name)
            context.close()
        finally:
            browser.close()


def _screenshot(browser_page, test_name: str) -> None:
    folder = Path(settings.VAR_DIR) / "browser-failures"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name) + ".png")
    try:
        browser_page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a screenshot must not hide the test's own failure
        print(f"could not save a screenshot: {exc}")
    else:
        print(f"screenshot of the failing page: {path}")
