"""Sign-in: password, then MFA; every failure counts against the lockout limits."""

from dataclasses import dataclass
from enum import Enum

import django_otp
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate, login, logout, user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from hospital.net import client_ip

from ..identity import canonical_login_name
from ..models import BackupCodeDevice, TOTPDevice, User
from . import lockout
from .sessions import user_session_rotate

REAUTH_SESSION_KEY = "accounts_reauth_at"


class Outcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    INACTIVE = "inactive"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    user: User | None = None
    lock: lockout.LockState | None = None


def _failed(request: HttpRequest, username: str, *, signal: bool) -> lockout.LockState:
    """Count a failure everywhere, then report whether the account is now locked."""
    if signal:
        # authenticate() sends this itself on a wrong password; a wrong MFA code must
        # reach axes the same way so it counts toward the per-client limit.
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    lockout.login_failure_record(username=username, ip_address=client_ip(request))
    return lockout.lock_state(request=request, username=username)


def password_login(*, request: HttpRequest, identifier: str, password: str) -> AttemptResult:
    """First factor. On success the session is signed in but not yet MFA-verified."""
    username = canonical_login_name(identifier)
    state = lockout.lock_state(request=request, username=username)
    if state.locked:
        return AttemptResult(Outcome.LOCKED, lock=state)
    user = authenticate(request, username=username, password=password)
    if user is None:
        inactive = User.objects.filter(username=username, is_active=False).first()
        if inactive is not None and inactive.check_password(password):
            return AttemptResult(Outcome.INACTIVE)
        state = _failed(request, username, signal=False)
        return AttemptResult(Outcome.LOCKED if state.locked else Outcome.INVALID, lock=state)
    login(request, user)  # new session key; accounts.receivers records the session
    request.session[REAUTH_SESSION_KEY] = timezone.now().isoformat()
    if not user_has_mfa(user=user):
        # No second factor to wait for: the sign-in is complete.
        axes_reset(ip=client_ip(request), username=username)
    return AttemptResult(Outcome.OK, user=user)


def user_has_mfa(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_verify(*, request: HttpRequest, token: str) -> AttemptResult:
    """Second factor: a TOTP code from any confirmed device, or an unused backup code."""
    user = request.user
    username = user.get_username()
    state = lockout.lock_state(request=request, username=username)
    if state.locked:
        logout(request)
        return AttemptResult(Outcome.LOCKED, lock=state)
    device, throttled = _match_device(user=user, token=token)
    if device is None:
        state = _failed(request, username, signal=True)
        if state.locked:
            logout(request)
            return AttemptResult(Outcome.LOCKED, lock=state)
        return AttemptResult(Outcome.THROTTLED if throttled else Outcome.INVALID)
    mfa_completed(request=request, device=device)
    return AttemptResult(Outcome.OK, user=user)


def mfa_completed(*, request: HttpRequest, device: TOTPDevice | BackupCodeDevice) -> None:
    """Mark the session verified by `device`: new session key, failures of this client forgiven."""
    django_otp.login(request, device)
    request.session.cycle_key()
    user_session_rotate(request=request)
    axes_reset(ip=client_ip(request), username=request.user.get_username())


@transaction.atomic
def _match_device(*, user: User, token: str) -> tuple[TOTPDevice | BackupCodeDevice | None, bool]:
    """The device that accepts `token`, and whether a device refused to check it (throttled).

    The shape of the token picks the kind: digits for an authenticator app, ten letters and
    digits for a backup code; so a backup code never counts as a failed app code.
    """
    token = (token or "").strip()
    if not token or len(token) > 32:
        return None, False
    compact = token.replace(" ", "")
    if compact.isdigit():
        # Row locks: two requests racing with one code cannot both pass the replay check.
        candidates = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk"))
    else:
        candidates = list(BackupCodeDevice.objects.select_for_update().filter(user=user, confirmed=True))
    throttled = False
    for device in candidates:
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            throttled = True
            continue
        if device.verify_token(compact):
            return device, False
    return None, throttled


def reauthenticate(*, request: HttpRequest, password: str) -> AttemptResult:
    """Re-enter the password to unlock sensitive pages for REAUTH_WINDOW."""
    user = request.user
    username = user.get_username()
    state = lockout.lock_state(request=request, username=username)
    if state.locked:
        logout(request)
        return AttemptResult(Outcome.LOCKED, lock=state)
    if authenticate(request, username=username, password=password) is None:
        state = _failed(request, username, signal=False)
        if state.locked:
            logout(request)
            return AttemptResult(Outcome.LOCKED, lock=state)
        return AttemptResult(Outcome.INVALID)
    request.session[REAUTH_SESSION_KEY] = timezone.now().isoformat()
    return AttemptResult(Outcome.OK, user=user)


def recently_authenticated(request: HttpRequest) -> bool:
    value = request.session.get(REAUTH_SESSION_KEY)
    if not value:
        return False
    try:
        at = timezone.datetime.fromisoformat(value)
    except ValueError:
        return False
    return timezone.now() - at <= settings.REAUTH_WINDOW
