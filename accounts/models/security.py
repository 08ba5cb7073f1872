from django.conf import settings
from django.db import models


class PasswordHistory(models.Model):
    """Hashes of a user's recent passwords (the current one included) to refuse reuse."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "password history"

    def __str__(self) -> str:
        return f"password of user #{self.user_id} set {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """One failed password or MFA code for an account, from any client.

    Feeds the account-wide lock (ACCOUNT_LOCKOUT_FAILURES within ACCOUNT_LOCKOUT_WINDOW),
    which django-axes cannot express next to its per-client limit.
    """

    username = models.CharField(max_length=254)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["username", "created_at"], name="loginfailure_user_time")]

    def __str__(self) -> str:
        return f"failure for {self.username} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class AccountLock(models.Model):
    """An account-wide lock; active while not released and not expired."""

    username = models.CharField(max_length=254)
    locked_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    failures = models.PositiveIntegerField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["username", "locked_at"], name="accountlock_user_time")]
        ordering = ["-locked_at"]

    def __str__(self) -> str:
        return f"lock of {self.username} from {self.locked_at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """A signed-in session as the user sees it on their sessions page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"session of user #{self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def device_label(self) -> str:
        from ..devices import describe_user_agent

        return describe_user_agent(self.user_agent)
