"""Sign-in with MFA, end to end in a real browser: enrolment, backup codes, sign-out, sign-in again.

The TOTP codes are computed here from the secret the enrolment page shows, as a phone's
authenticator app would (time-based, 6 digits, 30-second steps, as the page says).
"""

import re
import time
from base64 import b32decode
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from accounts.models import TOTPDevice
from accounts.roles import Role
from conftest import totp_code
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    # The live server reads what the test writes, so the data must be committed (the
    # role_groups fixture of conftest.py brings back the groups a flush removes).
    pytest.mark.django_db(transaction=True),
]

STEP = 30
DIGITS = 6
BAD_CODE_MESSAGE = "That code is not valid or was already used."


def step_at(when: float) -> int:
    return int(when // STEP)


def phone_code(secret: str, step: int) -> str:
    """The code an authenticator app shows during time step `step` for a base32 secret."""
    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=STEP, t0=0, digits=DIGITS, drift=0)
    totp.time = step * STEP
    return f"{totp.token():0{DIGITS}d}"


def url_pattern(live_server, name: str, *, next_name: str | None = None) -> re.Pattern:
    url = live_server.url + reverse(name)
    if next_name is not None:
        url += "?" + urlencode({"next": reverse(next_name)})
    return re.compile(re.escape(url) + "$")


def sign_in_with_password(page: Page, username: str) -> None:
    page.goto(reverse("accounts:login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def test_doctor_enrols_signs_out_and_signs_in_again_with_totp(page: Page, live_server, make_user):
    doctor = make_user(Role.DOCTOR, username="dr.browser")

    # Password first: a doctor has no authenticator yet, so the enrolment page follows.
    sign_in_with_password(page, "dr.browser")
    setup_url = url_pattern(live_server, "accounts:mfa_setup", next_name="accounts:dashboard")
    expect(page).to_have_url(setup_url)
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml;base64,")
    )
    secret = page.locator("code#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret  # a 160-bit key in base32, no padding

    # Half signed in: the dashboard is out of reach and sends back to the enrolment step,
    # which still shows the same pending secret.
    page.goto(reverse("accounts:dashboard"))
    expect(page).to_have_url(setup_url)
    expect(page.locator("code#totp-secret")).to_have_text(secret)

    enrol_step = step_at(time.time())
    page.get_by_label("Code from the app").fill(phone_code(secret, enrol_step))
    page.get_by_role("button", name="Confirm").click()

    # The backup codes are shown once, right after the first enrolment.
    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    backup_codes = page.locator("#backup-codes li")
    expect(backup_codes).to_have_count(10)
    texts = [text.strip() for text in backup_codes.all_inner_texts()]
    assert len(set(texts)) == 10 and all(texts), texts
    # The device confirmed is the one whose secret the page showed.
    device = TOTPDevice.objects.get(user=doctor)
    assert device.confirmed and device.base32_secret == secret
    # Measured once the server has answered: the enrolment code was checked within this span.
    enrol_checked_by = step_at(time.time())

    page.get_by_role("link", name="I have saved my codes").click()
    dashboard_url = url_pattern(live_server, "accounts:dashboard")
    expect(page).to_have_url(dashboard_url)
    expect(page.get_by_role("heading", name="Welcome, Test User")).to_be_visible()

    # Sign out with the header's button (a POST form).
    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(url_pattern(live_server, "accounts:login"))
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto(reverse("accounts:dashboard"))
    expect(page).to_have_url(re.compile(re.escape(live_server.url + reverse("accounts:login")) + r"\?"))

    # Password again: now the verification step, and the dashboard is not reachable from it.
    sign_in_with_password(page, "dr.browser")
    verify_url = url_pattern(live_server, "accounts:mfa_verify", next_name="accounts:dashboard")
    expect(page).to_have_url(verify_url)
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    page.goto(reverse("accounts:dashboard"))
    expect(page).to_have_url(verify_url)
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()

    # The enrolment code cannot be used again (replay protection), so take a later step's code.
    # If the clock is still in the enrolment step, the next step's code is accepted within the
    # server's one-step tolerance. If the step has moved on, the current code is later than the
    # enrolment one; it is also the one to use, since the server may have recorded a drift of
    # -1 when the enrolment code arrived just after a step boundary.
    now_step = step_at(time.time())
    assert now_step >= enrol_checked_by >= enrol_step
    login_step = now_step + 1 if now_step == enrol_checked_by == enrol_step else now_step
    page.get_by_label("Code").fill(phone_code(secret, login_step))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(dashboard_url)
    expect(page.get_by_role("heading", name="Welcome, Test User")).to_be_visible()
    expect(page.locator("header")).to_contain_text("dr.browser")


def test_wrong_code_at_verification_shows_an_error_and_stays(page: Page, live_server, make_user, enrol_totp):
    doctor = make_user(Role.DOCTOR, username="dr.wrong")
    device = enrol_totp(doctor)

    sign_in_with_password(page, "dr.wrong")
    verify_url = url_pattern(live_server, "accounts:mfa_verify", next_name="accounts:dashboard")
    expect(page).to_have_url(verify_url)

    # A well-formed code that is none of those the server would accept around now.
    now_step = step_at(time.time())
    near = {phone_code(device.base32_secret, now_step + offset) for offset in range(-3, 4)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in near)
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Verify").click()

    expect(page.locator(".field.has-error .error")).to_have_text(BAD_CODE_MESSAGE)
    expect(page).to_have_url(re.compile(re.escape(live_server.url + reverse("accounts:mfa_verify"))))
    expect(page.get_by_role("heading", name="Enter your verification code")).to_be_visible()
    expect(page.get_by_label("Code")).to_be_visible()

    # Still not through: the dashboard sends back to the verification step.
    page.goto(reverse("accounts:dashboard"))
    expect(page).to_have_url(verify_url)

    # The form still works: after the device's one-second throttle for one failure, the right
    # code gets in.
    time.sleep(1.5)
    page.get_by_label("Code").fill(totp_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(url_pattern(live_server, "accounts:dashboard"))
