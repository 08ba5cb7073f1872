"""Wards, beds and admissions. No bed ever holds two live admissions: the database says so."""

from django.conf import settings
from django.db import models
from fernet_fields import EncryptedTextField


class BedKind(models.TextChoices):
    GENERAL = "general", "General"
    HDU = "hdu", "HDU"
    ICU = "icu", "ICU"
    VENTILATOR = "ventilator", "Ventilator"


class BedStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    OCCUPIED = "occupied", "Occupied"
    RESERVED = "reserved", "Reserved"
    CLEANING = "cleaning", "Cleaning"
    CLOSED = "closed", "Closed"
    ISOLATED = "isolated", "Isolated"


class Ward(models.Model):
    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.PROTECT, related_name="wards")
    name = models.CharField(max_length=100)
    speciality = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hospital_id", "name"]
        constraints = [models.UniqueConstraint(fields=["hospital", "name"], name="ward_name_unique_per_hospital")]

    def __str__(self) -> str:
        return f"{self.name} ({self.hospital.code})"


class Bed(models.Model):
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="beds")
    # Denormalized from the ward (set by the services) so availability counts need no join.
    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(max_length=30)
    kind = models.CharField(max_length=16, choices=BedKind.choices, default=BedKind.GENERAL)
    status = models.CharField(max_length=16, choices=BedStatus.choices, default=BedStatus.AVAILABLE)
    equipment_notes = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ward_id", "label"]
        constraints = [models.UniqueConstraint(fields=["ward", "label"], name="bed_label_unique_per_ward")]
        indexes = [models.Index(fields=["hospital", "kind", "status"], name="bed_hospital_kind_status")]

    def __str__(self) -> str:
        return f"bed {self.label} ({self.get_kind_display()})"


class Priority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ELECTIVE = "elective", "Elective"


class AdmissionStatus(models.TextChoices):
    HELD = "held", "Held"
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATUSES = (AdmissionStatus.HELD, AdmissionStatus.ACTIVE)


class Admission(models.Model):
    patient = models.ForeignKey("records.Patient", on_delete=models.PROTECT, related_name="admissions")
    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="admissions")
    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.PROTECT, related_name="admissions")
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.URGENT)
    reason = EncryptedTextField(blank=True)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=AdmissionStatus.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    # When staff were told the hold is about to expire (beds.notify.holds_notify_expiring): once per hold.
    expiry_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set to the bed's id while the admission is held or active, NULL otherwise. Unique, so a
    # bed can carry only one live admission. (MariaDB ignores conditional unique constraints;
    # a plain unique column, NULL when not live, is enforced everywhere.)
    live_bed = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    # Likewise the patient's id while the admission is active: one active admission per patient.
    active_patient = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    # "isnull=False" spelled out: a CHECK whose result is NULL passes.
                    models.Q(status__in=LIVE_STATUSES, live_bed__isnull=False, live_bed=models.F("bed"))
                    | (~models.Q(status__in=LIVE_STATUSES) & models.Q(live_bed__isnull=True))
                ),
                name="admission_live_bed_matches_status",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status=AdmissionStatus.ACTIVE, active_patient__isnull=False, active_patient=models.F("patient")
                    )
                    | (~models.Q(status=AdmissionStatus.ACTIVE) & models.Q(active_patient__isnull=True))
                ),
                name="admission_active_patient_matches_status",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AdmissionStatus.HELD) | models.Q(hold_expires_at__isnull=False),
                name="admission_hold_has_expiry",
            ),
        ]
        indexes = [models.Index(fields=["status", "hold_expires_at"], name="admission_status_expiry")]

    def __str__(self) -> str:
        return f"admission #{self.pk} ({self.status})"


class Availability(models.Model):
    """Free and total beds per hospital and kind, refreshed after every bed change (the board reads only this)."""

    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.CASCADE, related_name="availability")
    kind = models.CharField(max_length=16, choices=BedKind.choices)
    free = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    occupied = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hospital", "kind"], name="availability_unique")]

    def __str__(self) -> str:
        return f"{self.kind} at hospital #{self.hospital_id}: {self.free}/{self.total} free"


class AlertScope(models.TextChoices):
    ALL = "all", "All hospitals"
    REGION = "region", "One region"
    HOSPITAL = "hospital", "One hospital"


class EmergencyAlert(models.Model):
    """A message for every connected board: broadcast by a coordinator, or raised on high occupancy."""

    message = models.CharField(max_length=300)
    scope = models.CharField(max_length=16, choices=AlertScope.choices, default=AlertScope.ALL)
    region = models.CharField(max_length=100, blank=True)
    hospital = models.ForeignKey(
        "accounts.Hospital", on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    kind = models.CharField(max_length=16, choices=BedKind.choices, blank=True)
    automatic = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="alert_open_recent")]

    def __str__(self) -> str:
        return f"alert #{self.pk} ({self.scope})"
