"""Session lifetime and the MFA gate."""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from .services.auth import user_has_mfa
from .services.sessions import LAST_SEEN_KEY, session_expired, user_session_touch

# How often the last-seen time is written back; the idle limit is exact to this much.
_TOUCH_EVERY_SECONDS = 60


class SessionPolicyMiddleware:
    """Sign out after SESSION_IDLE_TIMEOUT without a request, or SESSION_ABSOLUTE_TIMEOUT after sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            reason = session_expired(request=request)
            if reason is not None:
                logout(request)
                messages.info(
                    request,
                    "You were signed out after a period of inactivity."
                    if reason == "idle"
                    else "Your session reached its maximum length. Please sign in again.",
                )
            else:
                self._touch(request)
        return self.get_response(request)

    @staticmethod
    def _touch(request: HttpRequest) -> None:
        last = request.session.get(LAST_SEEN_KEY)
        now = timezone.now()
        if last and (now - timezone.datetime.fromisoformat(last)).total_seconds() < _TOUCH_EVERY_SECONDS:
            return
        user_session_touch(request=request)


def mfa_open_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:logout"),
        reverse("accounts:mfa_verify"),
        reverse("accounts:mfa_setup"),
        reverse("healthz"),
        reverse("readyz"),
        settings.STATIC_URL,
    )


class MFARequiredMiddleware:
    """A signed-in user who must pass MFA reaches only the MFA step and sign-out.

    MFA is required for every staff role and the admin, and for any patient who enrolled
    a device. API requests are answered by the API's own permission (403 JSON).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return self.get_response(request)
        path = request.path_info
        if path.startswith(mfa_open_paths()) or path.startswith("/api/v1/"):
            return self.get_response(request)
        has_device = user_has_mfa(user=user)
        if not has_device and not user.requires_mfa:
            return self.get_response(request)
        target = reverse("accounts:mfa_verify") if has_device else reverse("accounts:mfa_setup")
        nxt = request.get_full_path() if request.method == "GET" else reverse("accounts:dashboard")
        return HttpResponseRedirect(f"{target}?{urlencode({REDIRECT_FIELD_NAME: nxt})}")
