from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import AccountLock, Hospital, LoginFailure, Notification, TOTPDevice, User, UserSession
from .permissions import can_reset_mfa, can_unlock
from .roles import HOSPITAL_SCOPED_ROLES, Role
from .services.lockout import account_unlock
from .services.mfa import mfa_reset_for_user


@admin.register(Hospital)
class HospitalAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "phone", "active"]
    list_filter = ["active", "region"]
    search_fields = ["code", "name", "region"]


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self):
        cleaned = super().clean()
        roles = {g.name for g in cleaned.get("groups") or []}
        if roles & {r.value for r in HOSPITAL_SCOPED_ROLES} and not cleaned.get("hospital"):
            raise ValidationError("Doctors, nurses, pharmacists, lab technicians and hospital staff need a hospital.")
        if Role.PATIENT.value in roles and len(roles) > 1:
            raise ValidationError("A patient account cannot also hold a staff role; create a separate staff account.")
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationForm
    form = StaffChangeForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "email", "usable_password", "password1", "password2")}),
    )
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Organization", {"fields": ("hospital",)}),
        ("Roles and permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    list_display = ["username", "email", "first_name", "last_name", "hospital", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups", "hospital"]
    list_select_related = ["hospital"]
    search_fields = ["username", "email", "first_name", "last_name"]
    actions = ["unlock_accounts", "reset_mfa", "send_setup_email"]

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser may hand out privileges; a system admin manages everything else.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "user_permissions"]
        return readonly

    @admin.action(description="Unlock selected accounts")
    def unlock_accounts(self, request, queryset):
        done = 0
        for user in queryset:
            if can_unlock(request.user, user):
                account_unlock(actor=request.user, user=user)
                done += 1
        self.message_user(request, f"Unlocked {done} account(s).", messages.SUCCESS)

    @admin.action(description="Reset MFA of selected accounts")
    def reset_mfa(self, request, queryset):
        done = 0
        for user in queryset:
            if can_reset_mfa(request.user, user):
                mfa_reset_for_user(actor=request.user, user=user)
                done += 1
        self.message_user(request, f"Reset MFA of {done} account(s).", messages.SUCCESS)

    @admin.action(description="Email a password set-up link to selected accounts")
    def send_setup_email(self, request, queryset):
        from .tasks import send_account_setup_email

        ids = list(queryset.filter(is_active=True).values_list("pk", flat=True))
        for pk in ids:
            transaction.on_commit(lambda pk=pk: send_account_setup_email.delay(pk))
        self.message_user(request, f"Queued {len(ids)} set-up email(s).", messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    # The key is never shown: it is a second factor.
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at"]
    readonly_fields = fields


@admin.register(AccountLock)
class AccountLockAdmin(ReadOnlyAdmin):
    list_display = ["username", "locked_at", "expires_at", "failures", "released_at", "released_by"]
    date_hierarchy = "locked_at"
    search_fields = ["username"]


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ["username", "ip_address", "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["username", "ip_address"]


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "device_label", "ip_address", "created_at", "last_seen_at"]
    search_fields = ["user__username"]
    exclude = ["session_key"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Delivery state for support: was it emailed, texted, how many attempts, which error."""

    list_display = ["recipient", "kind", "subject", "created_at", "read_at", "email_sent_at", "sms_sent_at", "attempts"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    search_fields = ["recipient__username", "kind"]
    fields = [
        "recipient",
        "kind",
        "subject",
        "body",
        "link",
        "created_at",
        "read_at",
        "email_sent_at",
        "sms_sent_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields
