"""Patients. Name and date of birth are encrypted at rest; the medical record number is not secret."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from fernet_fields import EncryptedCharField, EncryptedDateField, EncryptedTextField

from .storage import document_storage


class Patient(models.Model):
    mrn = models.CharField(
        "medical record number",
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]{4,20}$", "Use 4 to 20 capital letters, digits or hyphens.")],
    )
    name = EncryptedCharField(max_length=200)
    # Keyed HMAC of the normalized name (BLIND_INDEX_KEY): search by name without decrypting.
    name_index = models.CharField(max_length=64, db_index=True, editable=False, default="")
    date_of_birth = EncryptedDateField()
    sex = models.CharField(
        max_length=1, choices=[("F", "Female"), ("M", "Male"), ("X", "Other / not stated")], default="X"
    )
    phone = EncryptedCharField(max_length=40, blank=True, default="")
    # Keyed HMAC of the phone's digits: search by phone without decrypting.
    phone_index = models.CharField(max_length=64, db_index=True, editable=False, blank=True, default="")
    email = EncryptedCharField(max_length=254, blank=True, default="")
    address = EncryptedTextField(blank=True, default="")
    emergency_contact = EncryptedTextField(blank=True, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="patient_record"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mrn"]

    def __str__(self) -> str:
        # Never the name: this string reaches logs, admin breadcrumbs and audit labels.
        return f"patient {self.mrn}"


class GrantReason(models.TextChoices):
    CARE_TEAM = "care_team", "Care team"
    PATIENT_CONSENT = "patient_consent", "Patient consent"
    BREAK_GLASS = "break_glass", "Break-glass"


class GrantScope(models.TextChoices):
    FULL = "full", "Full record"
    PRESCRIPTIONS = "prescriptions", "Prescriptions only"
    LAB = "lab", "Lab only"
    DEMOGRAPHICS = "demographics", "Demographics only"


class AccessGrant(models.Model):
    """Who may open which patient's record, why, how much of it, and until when."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="grants")
    grantee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="patient_grants")
    reason = models.CharField(max_length=20, choices=GrantReason.choices)
    scope = models.CharField(max_length=20, choices=GrantScope.choices, default=GrantScope.FULL)
    justification = models.CharField(max_length=500, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["grantee", "patient", "expires_at"], name="grant_lookup")]

    def __str__(self) -> str:
        return f"grant #{self.pk} ({self.reason}, {self.scope})"


def record_digest(record: models.Model, names: tuple[str, ...]) -> str:
    """SHA-256 over a clinical record's content: the named fields plus who, where and when."""
    import hashlib
    import json

    content = {name: str(getattr(record, name)) for name in names}
    content.update(
        patient=record.patient_id,
        author=record.author_id,
        hospital=record.hospital_id,
        created_at=record.created_at.isoformat(timespec="microseconds"),
    )
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class DigestedRecord(models.Model):
    """A clinical record whose content is covered by a SHA-256 digest, checked on every read."""

    DIGEST_FIELDS: tuple[str, ...] = ()

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    digest = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True

    def compute_digest(self) -> str:
        return record_digest(self, self.DIGEST_FIELDS)

    def verify(self) -> bool:
        return self.digest == self.compute_digest()


class Diagnosis(DigestedRecord):
    """A diagnosis: a code anyone on the care team may see, and encrypted free text.

    `digest` is the SHA-256 of the content; every read recomputes it, so a value changed in
    the database (ciphertext swapped or edited) is reported as an integrity error, never shown.
    """

    DIGEST_FIELDS = ("code", "text")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="diagnoses")
    code = models.CharField(max_length=20, help_text="ICD-10 code, e.g. J18.9")
    text = EncryptedTextField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "diagnoses"

    def __str__(self) -> str:
        return f"diagnosis #{self.pk}"


class ConsentCode(models.Model):
    """A one-time code a patient gives to a doctor, pharmacy or lab: stored only as a keyed digest."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consent_codes")
    digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=20, choices=GrantScope.choices, default=GrantScope.FULL)
    grant_hours = models.PositiveIntegerField(default=24)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"consent code #{self.pk}"


class PrescriptionStatus(models.TextChoices):
    PRESCRIBED = "prescribed", "To dispense"
    DISPENSED = "dispensed", "Dispensed"
    CANCELLED = "cancelled", "Cancelled"


class Prescription(DigestedRecord):
    """A prescription. The digest covers what was prescribed; dispensing is recorded beside it."""

    DIGEST_FIELDS = ("medication", "dose", "frequency", "duration_days", "instructions")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    medication = models.CharField(max_length=200)
    dose = models.CharField(max_length=100)
    frequency = models.CharField(max_length=100)
    duration_days = models.PositiveSmallIntegerField()
    instructions = EncryptedTextField(blank=True)
    status = models.CharField(max_length=16, choices=PrescriptionStatus.choices, default=PrescriptionStatus.PRESCRIBED)
    dispensed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispensed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["hospital", "status", "created_at"], name="prescription_queue")]

    def __str__(self) -> str:
        return f"prescription #{self.pk}"


class LabStatus(models.TextChoices):
    ORDERED = "ordered", "Ordered"
    RESULTED = "resulted", "Resulted"
    CANCELLED = "cancelled", "Cancelled"


class LabTest(DigestedRecord):
    """A lab order and, once filled, its result. The digest is recomputed by the service that
    records the result (the only writer), so any other change fails the check on read."""

    DIGEST_FIELDS = ("test", "status", "result", "reference_range", "resulted_by_id")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="lab_tests")
    test = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=LabStatus.choices, default=LabStatus.ORDERED)
    result = EncryptedTextField(blank=True, default="")
    reference_range = EncryptedTextField(blank=True, default="")
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resulted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["hospital", "status", "created_at"], name="lab_queue")]

    def __str__(self) -> str:
        return f"lab test #{self.pk}"


class ClinicalNote(DigestedRecord):
    DIGEST_FIELDS = ("text",)

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    text = EncryptedTextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"clinical note #{self.pk}"


class Allergy(DigestedRecord):
    DIGEST_FIELDS = ("substance", "severity", "reaction")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    substance = models.CharField(max_length=200)
    severity = models.CharField(
        max_length=10, choices=[("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")]
    )
    reaction = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return f"allergy #{self.pk}"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class Appointment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    hospital = models.ForeignKey("accounts.Hospital", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED)
    created_at = models.DateTimeField(auto_now_add=True)
    # The care-team grant the booking gave the clinician; it ends if the appointment is cancelled.
    grant = models.ForeignKey("AccessGrant", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["clinician", "starts_at"], name="appointment_clinician_time")]

    def __str__(self) -> str:
        return f"appointment #{self.pk}"


class Document(models.Model):
    """An uploaded file, encrypted at rest (records.storage), checked against its digest on download."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="documents")
    title = EncryptedCharField(max_length=200)
    file = models.FileField(storage=document_storage, upload_to="")
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    digest = models.CharField(max_length=64, help_text="SHA-256 of the plain file.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"document #{self.pk}"

    def rotate_stored_files(self) -> None:
        """Called by `manage.py rotate_keys`: rewrite this document's file under the newest key."""
        from .storage import reencrypt

        reencrypt(self.file.name)


class AmendmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    DENIED = "denied", "Denied"


# The records a patient may ask to amend (content type model names); no target means their details.
AMENDABLE_MODELS = ("diagnosis", "prescription", "labtest", "clinicalnote", "allergy")


class Amendment(models.Model):
    """A patient's request to amend their record (ONC 170.315(d)(4)), and the decision on it.

    The target is one clinical record of the same patient, or none for the patient's details. The
    target itself is never rewritten (its digest covers what was recorded): an accepted amendment is
    shown appended to it. `digest` covers the request and the decision and is checked on every read.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="amendments")
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"app_label": "records", "model__in": AMENDABLE_MODELS},
    )
    target_id = models.PositiveBigIntegerField(null=True, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    status = models.CharField(max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    denial_reason = EncryptedTextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    digest = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "status"], name="amendment_patient_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_type__isnull=True, target_id__isnull=True)
                | Q(target_type__isnull=False, target_id__isnull=False),
                name="amendment_target_whole_or_none",
            ),
            models.CheckConstraint(
                condition=Q(status=AmendmentStatus.REQUESTED, decided_by__isnull=True, decided_at__isnull=True)
                | Q(
                    status__in=[AmendmentStatus.ACCEPTED, AmendmentStatus.DENIED],
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                ),
                name="amendment_decided_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"amendment #{self.pk}"

    def compute_digest(self) -> str:
        import hashlib
        import json

        content = {
            "patient": self.patient_id,
            "target_type": self.target_type_id,
            "target_id": self.target_id,
            "requested_by": self.requested_by_id,
            "text": self.text,
            "status": self.status,
            "decided_by": self.decided_by_id,
            "decided_at": self.decided_at.isoformat(timespec="microseconds") if self.decided_at else None,
            "denial_reason": self.denial_reason,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()

    def verify(self) -> bool:
        return self.digest == self.compute_digest()
