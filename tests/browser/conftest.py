"""A real Chromium (Debian's, through Playwright) pointed at pytest-django's live server."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

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

# Chromium writes "Refused to ... because it violates the following Content Security Policy
# directive ..." to the console for each violation; the page's securitypolicyviolation event is
# logged too (init scripts run outside the page's CSP), in case the browser's own line is not.
CSP_CONSOLE_MARKER = "Content Security Policy"
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("Content Security Policy violation (event): " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline code") + " on " + event.documentURI);
});
"""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _require_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "package (`make browser-deps`, or `apt-get install chromium`).",
            pytrace=False,
        )


class LiveBrowser:
    """Chromium, started with the first page; each page has its own context (own cookies, so one
    page per signed-in user) on `base_url`. Every page's CSP violations are recorded."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.pages = []
        self.csp_violations: list[str] = []
        self._playwright = None
        self._browser = None

    def new_page(self):
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect, sync_playwright

        if self._browser is None:
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            self._playwright = sync_playwright().start()
            try:
                self._browser = self._playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=LAUNCH_TIMEOUT_MS
                )
            except PlaywrightError as exc:
                pytest.fail(f"Could not start Chromium at {CHROMIUM}: {exc}", pytrace=False)
        context = self._browser.new_context(base_url=self.base_url)
        # Nothing in the tests needs the favicon; answering it here keeps the browser's
        # background request off the live server (and its shared test database).
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        context.add_init_script(_CSP_LISTENER)
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page.on("console", lambda message: self._on_console(page, message))
        self.pages.append(page)
        return page

    def _on_console(self, page, message) -> None:
        if CSP_CONSOLE_MARKER in message.text:
            self.csp_violations.append(f"{page.url}: {message.text}")

    def assert_no_csp_violations(self) -> None:
        """No page of this browser reported a Content-Security-Policy violation so far."""
        assert self.csp_violations == [], "CSP violations:\n" + "\n".join(self.csp_violations)

    def screenshots(self, test_name: str) -> None:
        for number, page in enumerate(self.pages, start=1):
            _screenshot(page, test_name if len(self.pages) == 1 else f"{test_name}-page{number}")

    def close(self) -> None:
        try:
            for page in self.pages:
                page.context.close()
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._playwright is not None:
                self._playwright.stop()


@pytest.fixture
def live_browser(request, live_server, monkeypatch):
    """Chromium on the live server, started by the first `new_page()`, so the test can write its
    data first (service calls whose after-commit work runs async_to_sync must come before the
    browser: Playwright's sync API keeps an event loop running in the test thread).

    Screenshots of every page are saved under var/browser-failures/ when the test fails.
    """
    _require_chromium()
    # Playwright's event loop would make the ORM calls of the test body raise
    # SynchronousOnlyOperation once the browser runs. Restored after the test.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    browser = LiveBrowser(live_server.url)
    yield browser
    try:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            browser.screenshots(request.node.name)
    finally:
        browser.close()


@pytest.fixture
def page(live_browser):
    """A fresh browser context on the live server (base_url set), closed after the test.

    A screenshot of the page is saved under var/browser-failures/ when the test fails.
    """
    return live_browser.new_page()


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


# --- Signing in through the real pages ---------------------------------------------------------


def sign_in(page, username: str, *, next_url: str, device=None) -> None:
    """Password, then (for a user with an authenticator) a code from it; lands on next_url."""
    from playwright.sync_api import expect

    from conftest import totp_code
    from tests.factories import PASSWORD

    page.goto(reverse("accounts:login") + "?next=" + next_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    if device is not None:
        expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
        page.get_by_label("Code").fill(totp_code(device))
        page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))
    expect(page.locator("header")).to_contain_text(username)
