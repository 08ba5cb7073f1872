from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction

from .models import User
from .models.users import canonical_email, canonical_username


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from the app",
        max_length=8,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class DeviceNameForm(forms.Form):
    name = forms.CharField(label="Device name", max_length=64, initial="Authenticator app")


class ReauthForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)


class RegistrationForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="Lower-case letters, digits, dots, hyphens and underscores.")
    email = forms.EmailField(max_length=254)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_username(self) -> str:
        username = canonical_username(self.cleaned_data["username"])
        User._meta.get_field("username").run_validators(username)
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("That username is taken. Choose another.")
        return username

    def clean_email(self) -> str:
        return canonical_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords do not match.")
        elif p1:
            probe = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class QueuedPasswordResetForm(PasswordResetForm):
    """Password reset that queues a task with the user id; the worker builds the token."""

    def save(self, *args, **kwargs) -> None:
        from .tasks import send_password_reset_email

        email = canonical_email(self.cleaned_data["email"])
        # Accounts without a usable password (staff not yet set up) may use this too.
        for user in User.objects.filter(email=email, is_active=True):
            transaction.on_commit(lambda pk=user.pk: send_password_reset_email.delay(pk))


class UserSearchForm(forms.Form):
    q = forms.CharField(label="Username or email", max_length=254, required=False)
