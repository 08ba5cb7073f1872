"""The user's own security pages: MFA devices, backup codes, sessions, re-authentication."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors
from ..forms import DeviceNameForm, ReauthForm
from ..services import auth as auth_services
from ..services.mfa import MFAError, backup_codes_regenerate, totp_device_remove
from ..services.sessions import user_session_revoke, user_sessions_revoke_all
from .auth import _next_url, _show_backup_codes, lockout_page


def recent_auth_required(view):
    """The page needs the password re-entered within REAUTH_WINDOW."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not auth_services.recently_authenticated(request):
            back = request.get_full_path() if request.method == "GET" else reverse("accounts:security")
            return HttpResponseRedirect(f"{reverse('accounts:reauth')}?{urlencode({REDIRECT_FIELD_NAME: back})}")
        return view(request, *args, **kwargs)

    return wrapper


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    form = ReauthForm(request.POST or None)
    nxt = _next_url(request)
    if request.method == "POST" and form.is_valid():
        result = auth_services.reauthenticate(request=request, password=form.cleaned_data["password"])
        if result.outcome is auth_services.Outcome.LOCKED:
            return lockout_page(request, result.lock)
        if result.outcome is auth_services.Outcome.OK:
            return HttpResponseRedirect(nxt)
        form.add_error("password", "That password is not correct.")
    return render(request, "accounts/reauth.html", {"form": form, "next": nxt})


@login_required
def security_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/security.html", selectors.security_overview(user=request.user))


@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def device_add_view(request: HttpRequest) -> HttpResponse:
    form = DeviceNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        query = urlencode(
            {"restart": "1", "name": form.cleaned_data["name"], REDIRECT_FIELD_NAME: reverse("accounts:security")}
        )
        return HttpResponseRedirect(f"{reverse('accounts:mfa_setup')}?{query}")
    return render(request, "accounts/device_add.html", {"form": form})


@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def device_remove_view(request: HttpRequest, device_id: int) -> HttpResponse:
    device = selectors.totp_device_for_user(user=request.user, device_id=device_id)
    if device is None:
        messages.error(request, "That device does not exist.")
        return redirect("accounts:security")
    if request.method == "POST":
        try:
            totp_device_remove(user=request.user, device_id=device.pk)
        except MFAError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Removed “{device.name}”.")
        return redirect("accounts:security")
    remaining = selectors.confirmed_totp_count(user=request.user) - 1
    return render(
        request,
        "accounts/device_remove.html",
        {"device": device, "last_device": remaining <= 0, "mfa_required": request.user.requires_mfa},
    )


@login_required
@recent_auth_required
@require_http_methods(["GET", "POST"])
def backup_codes_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            codes = backup_codes_regenerate(user=request.user)
        except MFAError as exc:
            messages.error(request, str(exc))
            return redirect("accounts:security")
        return _show_backup_codes(request, codes, reverse("accounts:security"))
    return render(request, "accounts/backup_codes_confirm.html")


@login_required
def sessions_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": selectors.active_sessions(user=request.user),
            "current_key": request.session.session_key,
        },
    )


@login_required
@require_POST
def session_revoke_view(request: HttpRequest, session_id: int) -> HttpResponse:
    if user_session_revoke(user=request.user, session_id=session_id):
        messages.success(request, "The session was signed out.")
    else:
        messages.error(request, "That session no longer exists.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_revoke_all_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    user_sessions_revoke_all(user=user, except_session_key=request.session.session_key)
    logout(request)
    messages.success(request, "You are signed out on every device.")
    return redirect("accounts:login")
