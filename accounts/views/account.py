"""Dashboard, profile, self-registration, password change and reset."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from ..dashboards import dashboard_for
from ..forms import ProfileForm, QueuedPasswordResetForm, RegistrationForm
from ..models import User
from ..services.sessions import user_session_rotate, user_sessions_revoke_all
from ..services.users import patient_activate, patient_register, profile_update


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/dashboard.html", dashboard_for(request.user))


@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, initial={"first_name": user.first_name, "last_name": user.last_name})
    if request.method == "POST" and form.is_valid():
        profile_update(user=user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "profile_user": user})


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient_register(
            username=data["username"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            password=data["password1"],
        )
        return redirect("accounts:register_done")
    return render(request, "accounts/register.html", {"form": form})


def register_done_view(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_done.html")


def verify_email_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, UnicodeDecodeError):
        pk = None
    user = User.objects.filter(pk=pk).first() if pk is not None and 0 < pk < 2**62 else None
    if user is not None and patient_activate(user=user, token=token):
        messages.success(request, "Your email is confirmed. You can sign in now.")
        return redirect("accounts:login")
    return render(request, "accounts/verify_email_failed.html", status=400)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change with the current password; every other session of the user is signed out."""

    form_class = PasswordChangeForm
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session, under a new key
        user_session_rotate(request=self.request)
        user_sessions_revoke_all(user=form.user, except_session_key=self.request.session.session_key)
        messages.success(self.request, "Your password is changed. Other sessions were signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        user_sessions_revoke_all(user=form.user)
        return response
