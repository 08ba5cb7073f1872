"""The per-user notification inbox. Texts name admissions, beds, wards and hospitals, never patients."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

# A path on this site ("/beds/..."), never a full or protocol-relative URL: the inbox and the
# emails turn it into a link, so it must not lead anywhere else.
local_path_validator = RegexValidator(r"^/(?![/\\])[^\s\\]*$", "Give a path on this site, starting with one “/”.")
kind_validator = RegexValidator(r"^[a-z0-9_.]{1,40}$", "Use lower-case letters, digits, dots and underscores.")


class Notification(models.Model):
    """One message to one user: shown in the inbox, and delivered by email (and SMS to a phone)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, validators=[kind_validator], help_text="e.g. admission.booked")
    subject = models.CharField(max_length=150)
    body = models.CharField(max_length=1000, blank=True)
    link = models.CharField(max_length=300, blank=True, validators=[local_path_validator])
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)
    # Delivery, per channel. A channel whose time is set is never sent again, so delivering a
    # notification twice (a retried or duplicated task) sends nothing new.
    email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    sms_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # The failing channel and the exception's type only: messages of mail and SMS errors can
    # carry addresses and numbers.
    last_error = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"notification #{self.pk} ({self.kind}) to user #{self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
