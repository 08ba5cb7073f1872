"""The audit trail: append-only rows chained by SHA-256 (ASTM E2147 fields)."""

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .fields import EventJSONField, RowIdAutoField


class Action(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    VIEW = "view", "View"
    QUERY = "query", "Query"
    EXPORT = "export", "Export"
    PRINT = "print", "Print"
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    LOGIN_FAILED = "login_failed", "Login failed"
    LOCKED_OUT = "locked_out", "Locked out"
    UNLOCKED = "unlocked", "Unlocked"
    MFA_ENROLLED = "mfa_enrolled", "MFA enrolled"
    MFA_REMOVED = "mfa_removed", "MFA removed"
    MFA_RESET = "mfa_reset", "MFA reset"
    ROLE_CHANGED = "role_changed", "Role or permission changed"
    BREAK_GLASS = "break_glass", "Break-glass access"
    AUDIT_SETTINGS_CHANGED = "audit_settings_changed", "Audit settings changed"


class Category(models.TextChoices):
    DEMOGRAPHICS = "demographics", "Demographics"
    CLINICAL_NOTE = "clinical_note", "Clinical note"
    DIAGNOSIS = "diagnosis", "Diagnosis"
    PRESCRIPTION = "prescription", "Prescription"
    LAB_RESULT = "lab_result", "Lab result"
    DOCUMENT = "document", "Document"
    BED = "bed", "Bed"
    ACCOUNT = "account", "Account"
    SECURITY = "security", "Security"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"


# The unique index on AuditEvent.seq (made by the migrations, per database).
SEQ_INDEX = "audit_seq_unique"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events cannot be changed.")

    def delete(self):
        raise PermissionError("Audit events cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be changed.")


class AuditEvent(models.Model):
    """One audited happening. Never changed, never deleted (see also audit_db_grants).

    A row is written in the transaction of the change it records, without its chain fields;
    the sealer (audit.chain.seal_pending) gives it its place in the chain soon after commit,
    once: `seq`, `prev_hash` and `hash` go from empty to set and never change again.
    """

    id = RowIdAutoField(primary_key=True)
    # Unique, by an index the migrations make per database (audit.migrations.0007; see SEQ_INDEX):
    # on SQLite only sealed rows are in it, so an audited write does not add an entry that the
    # sealer then moves; MariaDB/MySQL index every row (NULLs never collide there).
    seq = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Position in the hash chain, from 1, without gaps; empty until sealed.",
    )
    occurred_at = models.DateTimeField(help_text="When the event was recorded.")
    activity_at = models.DateTimeField(null=True, blank=True, help_text="When the activity happened, if different.")
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="User id; kept if the user is deleted.")
    actor_name = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=300, blank=True, help_text="The actor's roles at the time.")
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    # No database constraint: it would cost every audited write a lookup of the content type (and,
    # on MariaDB/MySQL, an index of its own). Deleting a content type that events name is still
    # refused, by Django (PROTECT), and content types are never deleted by the application.
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True, help_text="A label without patient data.")
    category = models.CharField(max_length=32, choices=Category.choices)
    changes = EventJSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="audit_time"),
            models.Index(fields=["patient_id", "occurred_at", "id"], name="audit_patient_time"),
            models.Index(fields=["actor_id", "occurred_at", "id"], name="audit_actor_time"),
            # Each index is paid for by every audited write; action, category and outcome filters
            # ride on the time index.
        ]
        permissions = [("export_auditevent", "Can export audit events")]

    def __str__(self) -> str:
        place = f"#{self.seq}" if self.seq is not None else f"(unsealed, id {self.pk})"
        return f"{place} {self.action} by {self.actor_name or 'system'} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events cannot be deleted.")


class ChainHead(models.Model):
    """The end of the chain. Its row lock serializes sealers so the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"chain head at #{self.seq}"


class AuditState(models.Model):
    """The last auditing setting the platform ran with, so switching it is itself recorded."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    enabled = models.BooleanField(default=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"auditing {'on' if self.enabled else 'off'}"


class AuditArchive(models.Model):
    """A range of events moved to a compressed, hash-verified file; the chain continues from its end."""

    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField(unique=True)
    first_prev_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)
    events = models.PositiveIntegerField()
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    purged = models.BooleanField(default=False)

    class Meta:
        ordering = ["-last_seq"]

    def __str__(self) -> str:
        return f"archive #{self.first_seq}-#{self.last_seq}"
