"""Sign-in, the MFA step, first enrolment, sign-out."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import EnrolForm, LoginForm, TokenForm
from ..models import TOTPDevice
from ..permissions import mfa_satisfied
from ..services import auth as auth_services
from ..services.lockout import LockState
from ..services.mfa import MFAError, totp_device_confirm, totp_device_start, totp_qr_data_uri

_PENDING_DEVICE_KEY = "accounts_pending_totp_device"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(url: str, nxt: str) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: nxt})}"


def lockout_page(request: HttpRequest, state: LockState | None = None) -> HttpResponse:
    scope = state.scope if state else "client"
    response = render(
        request,
        "429.html",
        {
            "scope": scope,
            "until": state.until if state else None,
            "client_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            "request_id": getattr(request, "request_id", ""),
        },
        status=429,
    )
    request.force_no_store = True
    return response


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lock-out page (AXES_LOCKOUT_CALLABLE)."""
    return lockout_page(request)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    nxt = _next_url(request)
    if request.user.is_authenticated and mfa_satisfied(request.user):
        return HttpResponseRedirect(nxt)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = auth_services.password_login(
            request=request, identifier=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if result.outcome is auth_services.Outcome.LOCKED:
            return lockout_page(request, result.lock)
        if result.outcome is auth_services.Outcome.INACTIVE:
            form.add_error(None, "This account is not active yet. Open the link in the email we sent you.")
        elif result.outcome is auth_services.Outcome.INVALID:
            form.add_error(None, "The username or password is not correct.")
        else:
            user = result.user
            if auth_services.user_has_mfa(user=user):
                return HttpResponseRedirect(_with_next(reverse("accounts:mfa_verify"), nxt))
            if user.requires_mfa:
                return HttpResponseRedirect(_with_next(reverse("accounts:mfa_setup"), nxt))
            return HttpResponseRedirect(nxt)
    return render(request, "accounts/login.html", {"form": form, "next": nxt})


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    nxt = _next_url(request)
    if request.user.is_verified():
        return HttpResponseRedirect(nxt)
    if not auth_services.user_has_mfa(user=request.user):
        return HttpResponseRedirect(_with_next(reverse("accounts:mfa_setup"), nxt))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = auth_services.mfa_verify(request=request, token=form.cleaned_data["otp_token"])
        if result.outcome is auth_services.Outcome.LOCKED:
            return lockout_page(request, result.lock)
        if result.outcome is auth_services.Outcome.OK:
            return HttpResponseRedirect(nxt)
        if result.outcome is auth_services.Outcome.THROTTLED:
            form.add_error("otp_token", "Too many wrong codes in a row. Wait a minute, then enter a new code.")
        else:
            form.add_error("otp_token", "That code is not valid or was already used.")
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": nxt})


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_setup_view(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: first enrolment after sign-in, or another device later."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    user = request.user
    nxt = _next_url(request)
    has_device = auth_services.user_has_mfa(user=user)
    if has_device and not user.is_verified():
        # Adding a device is not a way around the code of an existing one.
        return HttpResponseRedirect(_with_next(reverse("accounts:mfa_verify"), nxt))
    if not auth_services.recently_authenticated(request):
        return HttpResponseRedirect(_with_next(reverse("accounts:reauth"), request.get_full_path()))

    device = None
    device_id = request.session.get(_PENDING_DEVICE_KEY)
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None or (request.method == "GET" and request.GET.get("restart")):
        device = totp_device_start(user=user, name=request.GET.get("name", ""))
        request.session[_PENDING_DEVICE_KEY] = device.pk

    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = totp_device_confirm(user=user, device_id=device.pk, token=form.cleaned_data["otp_token"])
        except MFAError as exc:
            form.add_error("otp_token", str(exc))
        else:
            request.session.pop(_PENDING_DEVICE_KEY, None)
            auth_services.mfa_completed(request=request, device=device)
            messages.success(request, "Your authenticator app is set up.")
            if codes:
                return _show_backup_codes(request, codes, nxt)
            return redirect("accounts:security")
    return render(
        request,
        "accounts/mfa_setup.html",
        {
            "form": form,
            "device": device,
            "qr_data_uri": totp_qr_data_uri(device=device),
            "secret": device.base32_secret,
            "next": nxt,
            "first_device": not has_device,
        },
    )


def _show_backup_codes(request: HttpRequest, codes: list[str], nxt: str) -> HttpResponse:
    request.force_no_store = True
    return render(request, "accounts/backup_codes.html", {"codes": codes, "next": nxt})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")
