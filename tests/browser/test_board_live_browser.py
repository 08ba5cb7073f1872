"""The bed board updates live in a real browser: bookings and alerts made elsewhere arrive without a reload.

pytest-django's live_server speaks WSGI only, so these tests serve the project's ASGI application
(HTTP and WebSockets, hospital.asgi) with uvicorn in a thread of the test process. Same process,
so the server shares the test database (the in-memory SQLite one is a shared-cache database
that every thread's connection opens) and the in-memory channel layer.

The changes "made in another session" (a booking by a nurse, an alert by a coordinator) are
service calls run on the server's event loop through database_sync_to_async, that is in the
thread where the served app runs its sync code, exactly as a view handling another user's
request would. They cannot run in the test thread: Playwright's sync API keeps an event loop
running there, and async_to_sync (the live push after commit) refuses to run under one.

For the same reason the test thread touches the ORM only before the browser starts (the
browser starts with the first page), so DJANGO_ALLOW_ASYNC_UNSAFE is not needed here and
Django's async-safety checks stay on in the server, consumers included.
"""

import asyncio
import logging
import os
import re
import threading
import time

import pytest
import uvicorn
from channels.db import database_sync_to_async
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.roles import Role
from beds.models import AlertScope
from beds.services import admission_book
from beds.services.alerts import alert_broadcast
from beds.services.availability import availability_refresh
from conftest import totp_code
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LAUNCH_TIMEOUT_MS,
    NAVIGATION_TIMEOUT_MS,
    STEP_TIMEOUT_MS,
    _screenshot,
)
from tests.factories import PASSWORD, BedFactory, HospitalFactory, PatientFactory, WardFactory

pytestmark = [
    pytest.mark.browser,
    # The server's threads read what the test writes, so the data must be committed.
    pytest.mark.django_db(transaction=True),
    # WhiteNoise serves static files with a synchronous iterator, which Django's ASGI handler
    # buffers with this warning; harmless for a test, and not what these tests are about.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators:Warning"),
]

# Seconds. Everything is local: a hang fails fast.
SERVER_START_TIMEOUT_S = 10
SERVER_STOP_TIMEOUT_S = 5
SERVER_CALL_TIMEOUT_S = 10
# Milliseconds: how long a change made elsewhere may take to reach the open page.
LIVE_UPDATE_TIMEOUT_MS = 5_000


# --- The ASGI server -------------------------------------------------------------------------


class _ErrorLog(logging.Handler):
    """Errors logged anywhere in the process while the server runs (the server's own included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # a log record must never break the server
            self.records.append(record.getMessage())


class AsgiLiveServer:
    """hospital.asgi.application served by uvicorn on a free 127.0.0.1 port, in a background thread."""

    def __init__(self) -> None:
        from hospital.asgi import application

        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=0,  # a free port, read back once listening
            http="h11",
            ws="websockets-sansio",
            lifespan="off",
            log_config=None,  # leave the process's logging configuration alone
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=SERVER_STOP_TIMEOUT_S,
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.url = ""
        self.errors = _ErrorLog()
        self._thread = threading.Thread(target=self._run, name="asgi-live-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve()

    def start(self) -> None:
        logging.getLogger().addHandler(self.errors)
        self._thread.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"The ASGI test server stopped while starting: {self.errors.records}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The ASGI test server did not start within {SERVER_START_TIMEOUT_S} s.")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        try:
            self.server.should_exit = True
            self._thread.join(timeout=SERVER_STOP_TIMEOUT_S)
            if self._thread.is_alive():
                self.server.force_exit = True
                self._thread.join(timeout=SERVER_STOP_TIMEOUT_S)
            assert not self._thread.is_alive(), "the ASGI test server did not stop"
        finally:
            logging.getLogger().removeHandler(self.errors)

    def call(self, func, /, *args, **kwargs):
        """Run `func` where the served app runs its sync code, as a view serving another session would.

        Its transaction commits there, and the after-commit pushes go through the server's loop.
        """
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(database_sync_to_async(func)(*args, **kwargs), self.loop)
        return future.result(timeout=SERVER_CALL_TIMEOUT_S)

    def error_report(self) -> str:
        if not self.errors.records:
            return "The server logged no error."
        counts: dict[str, int] = {}
        for record in self.errors.records:  # a socket that keeps reconnecting logs the same error again
            counts[record] = counts.get(record, 0) + 1
        return "The server logged:\n" + "\n".join(f"({n}x) {record}" for record, n in counts.items())


@pytest.fixture
def asgi_server(transactional_db):
    """The project's ASGI application (HTTP and WebSockets) on a free port; stopped after the test."""
    server = AsgiLiveServer()
    server.start()
    yield server
    server.stop()


# --- The browser -----------------------------------------------------------------------------


class Chromium:
    """Debian's Chromium, started with the first page; each page has its own context (own cookies)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.pages: list[Page] = []
        self._playwright = None
        self._browser = None

    def new_page(self) -> Page:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

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
        # Nothing here needs the favicon; answering it keeps the background request off the server.
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        self.pages.append(page)
        return page

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
def chromium(request, asgi_server):
    """Pages on the ASGI server (base_url set); screenshots under var/browser-failures/ if the test fails."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "package (`make browser-deps`, or `apt-get install chromium`).",
            pytrace=False,
        )
    browser = Chromium(asgi_server.url)
    yield browser
    try:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            for number, page in enumerate(browser.pages, start=1):
                _screenshot(page, f"{request.node.name}-page{number}")
    finally:
        browser.close()  # before the server stops: no socket is left open on it


# --- Helpers ---------------------------------------------------------------------------------


def sign_in(page: Page, username: str, device, next_url: str) -> None:
    """Password, then a code from the user's authenticator, through the real pages; lands on next_url."""
    page.goto(reverse("accounts:login") + "?next=" + next_url)
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(re.escape(next_url) + "$"))


def record_socket_frames(page: Page) -> list[str]:
    """Every WebSocket message the page receives from now on, as text."""
    frames: list[str] = []

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str) else ""))

    page.on("websocket", on_socket)
    return frames


def record_navigations(page: Page) -> list[str]:
    """URLs the page's main frame navigates to from now on (none for a live update)."""
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    return navigations


def mark_document(page: Page) -> None:
    """Leave a marker on this document: it survives DOM updates, not a reload or a navigation."""
    page.evaluate("window.__boardDocument = 'loaded-before-the-change'")


def assert_same_document(page: Page, navigations: list[str]) -> None:
    assert page.evaluate("window.__boardDocument") == "loaded-before-the-change", "the page was reloaded"
    assert navigations == [], navigations


def icu_cell(page: Page, hospital_id: int):
    return page.locator(f'tr[data-hospital="{hospital_id}"] td[data-kind="icu"]')


def expect_live_text(server: AsgiLiveServer, locator, text: str) -> None:
    try:
        expect(locator).to_have_text(text, timeout=LIVE_UPDATE_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{server.error_report()}") from None


def expect_connected(server: AsgiLiveServer, page: Page) -> None:
    """The page's socket is open: board.js writes "live" in #live-status on open."""
    try:
        expect(page.locator("#live-status")).to_have_text("live")
    except AssertionError as exc:
        raise AssertionError(f"The board's WebSocket did not connect.\n{exc}\n{server.error_report()}") from None


def hospital_with_icu_beds(code: str, name: str, *, icu: int, general: int = 0):
    hospital = HospitalFactory(code=code, name=name, region="North")
    ward = WardFactory(hospital=hospital, name=f"{code} intensive care")
    for number in range(icu):
        BedFactory(ward=ward, label=f"{code}-I{number}", kind="icu")
    if general:
        general_ward = WardFactory(hospital=hospital, name=f"{code} general")
        for number in range(general):
            BedFactory(ward=general_ward, label=f"{code}-G{number}", kind="general")
    availability_refresh(hospital_id=hospital.pk)
    return hospital


# --- Tests -----------------------------------------------------------------------------------


def test_staff_board_shows_a_booking_made_in_another_session_without_reloading(
    asgi_server, chromium, make_user, enrol_totp
):
    # Everything the test thread writes comes first, before the browser starts.
    hospital = hospital_with_icu_beds("LIV", "Live General", icu=2, general=1)
    other = hospital_with_icu_beds("QUI", "Quiet Infirmary", icu=1)
    coordinator = make_user(Role.EMERGENCY_COORDINATOR, username="coord.live")
    device = enrol_totp(coordinator)
    nurse = make_user(Role.NURSE, username="nurse.live", hospital=hospital)
    patient = PatientFactory(name="Zebulon Quartermaine", mrn="MRN-LIVE-0001")

    page = chromium.new_page()
    frames = record_socket_frames(page)
    sign_in(page, "coord.live", device, reverse("beds:board"))
    expect_connected(asgi_server, page)
    row = page.locator(f'tr[data-hospital="{hospital.pk}"]')
    expect(icu_cell(page, hospital.pk)).to_have_text("2 / 2")
    expect(row.locator("td[data-free]")).to_have_text("3")
    expect(icu_cell(page, other.pk)).to_have_text("1 / 1")

    mark_document(page)
    navigations = record_navigations(page)
    started = time.monotonic()
    # Another session: the hospital's nurse books an ICU bed (committed in the server).
    admission = asgi_server.call(
        admission_book, actor=nurse, patient=patient, kind="icu", hospital=hospital, reason="Post-operative care"
    )
    assert admission.hospital_id == hospital.pk

    expect_live_text(asgi_server, icu_cell(page, hospital.pk), "1 / 2")
    print(f"board updated {time.monotonic() - started:.2f} s after the booking was made")
    expect(row.locator("td[data-free]")).to_have_text("2")
    expect(icu_cell(page, other.pk)).to_have_text("1 / 1")
    assert_same_document(page, navigations)
    expect(page.locator("#live-status")).to_have_text("live")

    # No patient data on the page, nor on the socket that brought the change.
    for secret in (patient.name, patient.mrn, "Post-operative care"):
        expect(page.locator("body")).not_to_contain_text(secret)
        assert not [frame for frame in frames if secret in frame]
    assert any('"availability"' in frame for frame in frames), frames


def test_public_board_updates_live_and_alerts_reach_only_staff_boards(asgi_server, chromium, make_user, enrol_totp):
    alert_text = "Mass casualty incident on the ring road: divert non-urgent ambulances."
    hospital = hospital_with_icu_beds("PUB", "Public Memorial", icu=2)
    nurse = make_user(Role.NURSE, username="nurse.pub", hospital=hospital)
    device = enrol_totp(nurse)
    coordinator = make_user(Role.EMERGENCY_COORDINATOR, username="coord.pub")
    patient = PatientFactory(name="Ottoline Vasquez-Brandt")

    staff = chromium.new_page()
    staff_frames = record_socket_frames(staff)
    sign_in(staff, "nurse.pub", device, reverse("beds:board"))
    expect_connected(asgi_server, staff)

    public = chromium.new_page()  # another context: no session at all
    public_frames = record_socket_frames(public)
    public.goto(reverse("beds:public_board"))
    expect(public.get_by_role("heading", name="Bed availability (public view)")).to_be_visible()
    expect_connected(asgi_server, public)
    for page in (staff, public):
        expect(icu_cell(page, hospital.pk)).to_have_text("2 / 2")
        expect(page.locator("#alerts li")).to_have_count(0)
        mark_document(page)
    staff_navigations, public_navigations = record_navigations(staff), record_navigations(public)

    # A coordinator broadcasts an alert: it reaches the staff board live.
    asgi_server.call(alert_broadcast, actor=coordinator, message=alert_text, scope=AlertScope.ALL)
    expect_live_text(asgi_server, staff.locator("#alerts li"), alert_text)
    expect(staff.locator("#alerts")).to_be_visible()

    # Then a booking: both boards update. The alert was pushed before this update, so had the
    # public socket been sent the alert, it would have arrived (in order) before the update.
    asgi_server.call(admission_book, actor=coordinator, patient=patient, kind="icu", hospital=hospital)
    expect_live_text(asgi_server, icu_cell(public, hospital.pk), "1 / 2")
    expect_live_text(asgi_server, icu_cell(staff, hospital.pk), "1 / 2")

    expect(public.locator("#alerts li")).to_have_count(0)
    expect(public.locator("#alerts")).to_be_hidden()
    expect(public.locator("body")).not_to_contain_text(alert_text)
    assert not [frame for frame in public_frames if alert_text in frame or '"alert"' in frame], public_frames
    assert any('"availability"' in frame for frame in public_frames), public_frames
    assert any(alert_text in frame for frame in staff_frames), staff_frames

    for page, navigations in ((staff, staff_navigations), (public, public_navigations)):
        assert_same_document(page, navigations)
        expect(page.locator("body")).not_to_contain_text(patient.name)
