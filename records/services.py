"""Writes of patient data: patients, access grants (care team, break-glass), diagnoses."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from audit.signals import phi_accessed
from hospital.crypto import blind_index

from .models import (
    AMENDABLE_MODELS,
    AccessGrant,
    Allergy,
    Amendment,
    AmendmentStatus,
    Appointment,
    AppointmentStatus,
    ClinicalNote,
    ConsentCode,
    Diagnosis,
    GrantReason,
    GrantScope,
    LabStatus,
    LabTest,
    Patient,
    Prescription,
    PrescriptionStatus,
)
from .permissions import (
    can_book_appointment,
    can_break_glass,
    can_decide_amendment,
    can_dispense,
    can_grant,
    can_manage_appointment,
    can_record_lab_result,
    can_redeem_consent,
    can_write_clinical,
    is_own_record,
)


class PatientError(Exception):
    """A refusal with a message safe to show (never containing the patient's data).

    `field_errors` maps the input fields the refusal is about to their messages (the API answers those
    with a 400 keyed by field); it is empty when the refusal is about the record's state or the actor."""

    def __init__(
        self, message: str, *, fields: tuple[str, ...] = (), field_errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.field_errors = field_errors if field_errors is not None else {name: [message] for name in fields}

    @classmethod
    def from_validation(cls, exc: ValidationError) -> "PatientError":
        """The model's own validation (full_clean), as one message and per field."""
        errors = exc.message_dict
        return cls(
            " ".join(m for msgs in errors.values() for m in msgs),
            field_errors={name: msgs for name, msgs in errors.items() if name != NON_FIELD_ERRORS},
        )


def phone_digits(phone: str) -> str:
    return "".join(ch for ch in (phone or "") if ch.isdigit())


@transaction.atomic
def patient_create(
    *,
    actor: User,
    mrn: str,
    name: str,
    date_of_birth: date,
    sex: str = "X",
    phone: str = "",
    email: str = "",
    address: str = "",
    emergency_contact: str = "",
) -> Patient:
    """Register a patient (for example on arrival in an emergency, before a full record exists)."""
    patient = Patient(
        mrn=(mrn or "").strip().upper(),
        name=(name or "").strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        phone=(phone or "").strip(),
        email=(email or "").strip().lower(),
        address=(address or "").strip(),
        emergency_contact=(emergency_contact or "").strip(),
    )
    patient.phone_index = blind_index(phone_digits(patient.phone), purpose="patient.phone") if patient.phone else ""
    if not patient.name:
        raise PatientError("Enter the patient's name.")
    patient.name_index = blind_index(patient.name, purpose="patient.name")
    if date_of_birth > date.today():
        raise PatientError("The date of birth cannot be in the future.")
    try:
        patient.full_clean()
        with transaction.atomic():
            patient.save()
    except ValidationError as exc:
        raise PatientError(" ".join(m for msgs in exc.message_dict.values() for m in msgs)) from exc
    except IntegrityError as exc:
        raise PatientError("A patient with this medical record number already exists.") from exc
    return patient


def _grant(*, patient: Patient, grantee: User, reason: str, scope: str, hours: float, actor: User, why: str):
    grant = AccessGrant(
        patient=patient,
        grantee=grantee,
        reason=reason,
        scope=scope,
        justification=why,
        granted_by=actor,
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    grant.full_clean()
    grant.save()
    # guardian's object permission follows the grants (removed when the last one ends).
    assign_perm("records.view_patient", grantee, patient)
    return grant


@transaction.atomic
def grant_care_team(
    *, actor: User, patient: Patient, grantee: User, scope: str = GrantScope.FULL, hours: float = 72
) -> AccessGrant:
    """A hospital admin adds a clinician to the patient's care team for a while."""
    if not can_grant(actor):
        raise PatientError("Only hospital administrators can add clinicians to a care team.")
    if scope not in GrantScope.values:
        raise PatientError("Choose full record, prescriptions, lab or demographics.")
    if not 0 < hours <= 24 * 30:
        raise PatientError("A care-team grant lasts from minutes to 30 days.")
    return _grant(
        patient=patient, grantee=grantee, reason=GrantReason.CARE_TEAM, scope=scope, hours=hours, actor=actor, why=""
    )


@transaction.atomic
def break_glass(*, actor: User, patient: Patient, reason: str) -> AccessGrant:
    """Emergency access without a grant: a stated reason, a short time, flagged in the audit trail."""
    reason = (reason or "").strip()
    if not can_break_glass(actor):
        raise PatientError("Your role cannot use emergency access.")
    if len(reason) < 10:
        raise PatientError("State why you need emergency access (at least 10 characters).")
    hours = getattr(settings, "BREAK_GLASS_HOURS", 1)
    grant = _grant(
        patient=patient,
        grantee=actor,
        reason=GrantReason.BREAK_GLASS,
        scope=GrantScope.FULL,
        hours=hours,
        actor=actor,
        why=reason[:500],
    )
    _tell_privacy_officers(grant)
    phi_accessed.send(
        sender=break_glass,
        action="break_glass",
        category="demographics",
        patient_id=patient.pk,
        obj=grant,
        object_label=f"emergency access to patient {patient.mrn}",
        reason=reason[:500],
    )
    return grant


def _tell_privacy_officers(grant: AccessGrant) -> None:
    from django.urls import reverse

    from accounts.roles import Role
    from accounts.selectors import users_to_notify
    from accounts.services.notifications import notification_create

    notification_create(
        recipients=users_to_notify(hospital_ids=[], hospital_roles=(), global_roles=(Role.PRIVACY_OFFICER,)),
        kind="records.break_glass",
        subject="Emergency access to a patient record",
        body=(
            f"{grant.grantee.get_username()} used emergency access (grant {grant.pk}) until "
            f"{timezone.localtime(grant.expires_at):%Y-%m-%d %H:%M}. Review it in the audit trail."
        ),
        link=reverse("audit:patient_timeline", args=[grant.patient_id]),
    )


def _drop_guardian_if_no_grant(grant: AccessGrant) -> None:
    still = AccessGrant.objects.filter(
        grantee_id=grant.grantee_id,
        patient_id=grant.patient_id,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exists()
    if not still:
        remove_perm("records.view_patient", grant.grantee, grant.patient)


@transaction.atomic
def grant_revoke(*, actor: User, grant_id: int) -> AccessGrant:
    grant = AccessGrant.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise PatientError("That grant does not exist.")
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
    _drop_guardian_if_no_grant(grant)
    return grant


def grants_expire() -> int:
    """Remove the object permissions of every grant that ran out (Celery beat). Access already
    stopped at expiry: permissions are read from the grants' times."""
    count = 0
    for grant in AccessGrant.objects.filter(expires_at__lte=timezone.now(), revoked_at__isnull=True):
        with transaction.atomic():
            grant.revoked_at = grant.expires_at
            grant.save(update_fields=["revoked_at"])
            _drop_guardian_if_no_grant(grant)
            count += 1
    return count


@transaction.atomic
def diagnosis_create(*, actor: User, patient: Patient, code: str, text: str) -> Diagnosis:
    if not can_write_clinical(user=actor, patient=patient):
        raise PatientError("Only a doctor with access to this patient's full record can add a diagnosis.")
    if actor.hospital_id is None:
        raise PatientError("Your account has no hospital.")
    diagnosis = Diagnosis(
        patient=patient,
        code=(code or "").strip().upper(),
        text=(text or "").strip(),
        author=actor,
        hospital_id=actor.hospital_id,
        created_at=timezone.now(),
    )
    if not diagnosis.code or not diagnosis.text:
        missing = tuple(name for name in ("code", "text") if not getattr(diagnosis, name))
        raise PatientError("Give the code and the diagnosis text.", fields=missing)
    diagnosis.digest = diagnosis.compute_digest()
    try:
        diagnosis.full_clean(exclude=["patient", "author", "hospital"])
    except ValidationError as exc:
        raise PatientError.from_validation(exc) from exc
    diagnosis.save()
    return diagnosis


_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CONSENT_MAX_TRIES = 5


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


@transaction.atomic
def consent_code_create(
    *, actor: User, patient: Patient, scope: str = GrantScope.FULL, valid_minutes: int = 60, grant_hours: int = 24
) -> tuple[ConsentCode, str]:
    """The patient makes a one-time code to hand to a clinician; the code itself is returned once."""
    import secrets

    if patient.user_id != actor.pk:
        raise PatientError("Only the patient can create consent codes for their record.")
    if scope not in GrantScope.values:
        raise PatientError("Choose full record, prescriptions, lab or demographics.")
    if not 5 <= valid_minutes <= 7 * 24 * 60:
        raise PatientError("A code can be valid from 5 minutes to 7 days.")
    if not 1 <= grant_hours <= 24 * 30:
        raise PatientError("Access can last from 1 hour to 30 days.")
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    code = ConsentCode.objects.create(
        patient=patient,
        digest=blind_index(raw, purpose="records.consent-code"),
        scope=scope,
        grant_hours=grant_hours,
        expires_at=timezone.now() + timedelta(minutes=valid_minutes),
    )
    return code, f"{raw[:5]}-{raw[5:]}"


def consent_code_redeem(*, actor: User, patient: Patient, code: str) -> AccessGrant:
    """A clinician enters the patient's code: right once, it becomes a grant; five wrong tries kill the codes.

    Only care roles may redeem (see can_redeem_consent); anyone else is refused before any try is
    counted, so other accounts cannot spend the patient's codes either."""
    if not can_redeem_consent(actor):
        raise PatientError("Only a doctor, nurse, pharmacist or lab technician can use a patient's consent code.")
    now = timezone.now()
    digest = blind_index(_normalize_code(code), purpose="records.consent-code")
    with transaction.atomic():
        live = list(
            ConsentCode.objects.select_for_update().filter(
                patient=patient,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
                failed_attempts__lt=CONSENT_MAX_TRIES,
            )
        )
        match = next((c for c in live if c.digest == digest), None)
        if match is None:
            # Counted (and committed) before the refusal: guessing spends the codes' tries.
            for c in live:
                c.failed_attempts += 1
                c.save(update_fields=["failed_attempts"])
            grant = None
        else:
            match.used_at, match.used_by = now, actor
            match.save(update_fields=["used_at", "used_by"])
            grant = _grant(
                patient=patient,
                grantee=actor,
                reason=GrantReason.PATIENT_CONSENT,
                scope=match.scope,
                hours=match.grant_hours,
                actor=patient.user or actor,
                why="consent code",
            )
    if grant is None:
        raise PatientError("That code is not valid for this patient, or it has expired or been used.", fields=("code",))
    return grant


@transaction.atomic
def grant_revoke_by_patient(*, actor: User, grant_id: int) -> AccessGrant:
    """The patient ends any grant on their own record, at once."""
    grant = AccessGrant.objects.select_related("patient").filter(pk=grant_id).first()
    if grant is None or grant.patient.user_id != actor.pk:
        raise PatientError("That grant does not exist.")
    return grant_revoke(actor=actor, grant_id=grant.pk)


@transaction.atomic
def care_team_join(*, patient: Patient, clinician: User, hours: float = 24 * 7) -> AccessGrant | None:
    """A clinician who admits (or holds a bed for) a patient joins the care team for a week.

    Called by the beds services; only clinical roles join (a coordinator booking from the board
    does not thereby read charts)."""
    from accounts.roles import Role

    if not any(clinician.has_role(r) for r in (Role.DOCTOR, Role.NURSE)):
        return None
    return _grant(
        patient=patient,
        grantee=clinician,
        reason=GrantReason.CARE_TEAM,
        scope=GrantScope.FULL,
        hours=hours,
        actor=clinician,
        why="admission",
    )


@transaction.atomic
def prescription_create(
    *,
    actor: User,
    patient: Patient,
    medication: str,
    dose: str,
    frequency: str,
    duration_days: int,
    instructions: str = "",
) -> Prescription:
    if not can_write_clinical(user=actor, patient=patient):
        raise PatientError("Only a doctor with access to this patient's full record can prescribe.")
    if actor.hospital_id is None:
        raise PatientError("Your account has no hospital.")
    fields = {"medication": medication, "dose": dose, "frequency": frequency}
    missing = [name for name, value in fields.items() if not (value or "").strip()]
    if missing:
        raise PatientError(f"Give the {', '.join(missing)}.", fields=tuple(missing))
    if not 1 <= int(duration_days) <= 365:
        raise PatientError("The duration is 1 to 365 days.", fields=("duration_days",))
    prescription = Prescription(
        patient=patient,
        medication=medication.strip(),
        dose=dose.strip(),
        frequency=frequency.strip(),
        duration_days=int(duration_days),
        instructions=(instructions or "").strip(),
        author=actor,
        hospital_id=actor.hospital_id,
        created_at=timezone.now(),
    )
    prescription.digest = prescription.compute_digest()
    try:
        prescription.full_clean(exclude=["patient", "author", "hospital", "dispensed_by"])
    except ValidationError as exc:
        raise PatientError.from_validation(exc) from exc
    prescription.save()
    return prescription


@transaction.atomic
def prescription_dispense(*, actor: User, prescription_id: int) -> Prescription:
    """A pharmacist of the prescribing hospital dispenses; a record that fails its check is refused."""
    prescription = Prescription.objects.select_for_update().filter(pk=prescription_id).first()
    if prescription is None:
        raise PatientError("That prescription does not exist.")
    if not can_dispense(user=actor, prescription=prescription):
        raise PatientError("Only a pharmacist of the prescribing hospital can dispense it.")
    if prescription.status != PrescriptionStatus.PRESCRIBED:
        raise PatientError("This prescription is not waiting to be dispensed.")
    if not prescription.verify():
        raise PatientError("This prescription failed its integrity check; it cannot be dispensed. Tell IT security.")
    prescription.status = PrescriptionStatus.DISPENSED
    prescription.dispensed_by = actor
    prescription.dispensed_at = timezone.now()
    prescription.save(update_fields=["status", "dispensed_by", "dispensed_at"])
    return prescription


@transaction.atomic
def lab_order(*, actor: User, patient: Patient, test: str) -> LabTest:
    if not can_write_clinical(user=actor, patient=patient):
        raise PatientError("Only a doctor with access to this patient's full record can order tests.")
    if actor.hospital_id is None:
        raise PatientError("Your account has no hospital.")
    test = (test or "").strip()
    if not test or len(test) > 200:
        raise PatientError("Name the test (up to 200 characters).", fields=("test",))
    order = LabTest(patient=patient, test=test, author=actor, hospital_id=actor.hospital_id, created_at=timezone.now())
    order.digest = order.compute_digest()
    order.save()
    return order


@transaction.atomic
def lab_result(*, actor: User, lab_test_id: int, result: str, reference_range: str = "") -> LabTest:
    """A lab technician of the ordering hospital records the result."""
    order = LabTest.objects.select_for_update().filter(pk=lab_test_id).first()
    if order is None:
        raise PatientError("That lab order does not exist.")
    if not can_record_lab_result(user=actor, lab_test=order):
        raise PatientError("Only a lab technician of the ordering hospital can record the result.")
    if order.status != LabStatus.ORDERED:
        raise PatientError("This order is not waiting for a result.")
    if not order.verify():
        raise PatientError("This order failed its integrity check. Tell IT security.")
    if not (result or "").strip():
        raise PatientError("Enter the result.", fields=("result",))
    order.result = result.strip()
    order.reference_range = (reference_range or "").strip()
    order.status = LabStatus.RESULTED
    order.resulted_by = actor
    order.resulted_at = timezone.now()
    order.digest = order.compute_digest()
    order.save(update_fields=["result", "reference_range", "status", "resulted_by", "resulted_at", "digest"])
    return order


def _save_clinical(record, *, actor: User):
    record.author = actor
    record.hospital_id = actor.hospital_id
    record.created_at = timezone.now()
    record.digest = record.compute_digest()
    try:
        record.full_clean(exclude=["patient", "author", "hospital"])
    except ValidationError as exc:
        raise PatientError.from_validation(exc) from exc
    record.save()
    return record


@transaction.atomic
def note_create(*, actor: User, patient: Patient, text: str) -> ClinicalNote:
    if not can_write_clinical(user=actor, patient=patient) or actor.hospital_id is None:
        raise PatientError("Only a doctor with access to this patient's full record can write notes.")
    if not (text or "").strip():
        raise PatientError("Write the note.", fields=("text",))
    return _save_clinical(ClinicalNote(patient=patient, text=text.strip()), actor=actor)


@transaction.atomic
def allergy_create(*, actor: User, patient: Patient, substance: str, severity: str, reaction: str = "") -> Allergy:
    if not can_write_clinical(user=actor, patient=patient) or actor.hospital_id is None:
        raise PatientError("Only a doctor with access to this patient's full record can record allergies.")
    if not (substance or "").strip():
        raise PatientError("Name the substance.", fields=("substance",))
    if severity not in ("mild", "moderate", "severe"):
        raise PatientError("Choose mild, moderate or severe.", fields=("severity",))
    return _save_clinical(
        Allergy(patient=patient, substance=substance.strip(), severity=severity, reaction=(reaction or "").strip()),
        actor=actor,
    )


_APPOINTMENT_MOVES = {
    AppointmentStatus.SCHEDULED: {AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW},
}


@transaction.atomic
def appointment_create(*, actor: User, patient: Patient, clinician: User, starts_at) -> Appointment:
    """Staff of the clinician's hospital (or the clinician) book; the clinician joins the care team
    from now until a day after the appointment."""
    from accounts.roles import Role

    if clinician.hospital_id is None or not clinician.has_role(Role.DOCTOR) and not clinician.has_role(Role.NURSE):
        raise PatientError("Appointments are with a doctor or nurse of a hospital.")
    if actor.pk != clinician.pk and actor.hospital_id != clinician.hospital_id:
        raise PatientError("Book appointments for clinicians of your own hospital.")
    if not can_book_appointment(user=actor, patient=patient):
        raise PatientError("Only a doctor or nurse with access to this patient's full record can book appointments.")
    if starts_at <= timezone.now():
        raise PatientError("Choose a time in the future.")
    if starts_at > timezone.now() + timedelta(days=366):
        raise PatientError("Book at most a year ahead.")
    appointment = Appointment(
        patient=patient, clinician=clinician, hospital_id=clinician.hospital_id, starts_at=starts_at
    )
    appointment.full_clean(exclude=["patient", "clinician", "hospital"])
    appointment.save()
    hours = (starts_at - timezone.now()).total_seconds() / 3600 + 24
    _grant(
        patient=patient,
        grantee=clinician,
        reason=GrantReason.CARE_TEAM,
        scope=GrantScope.FULL,
        hours=hours,
        actor=actor,
        why="appointment",
    )
    return appointment


@transaction.atomic
def appointment_set_status(*, actor: User, appointment_id: int, status: str) -> Appointment:
    """The clinician, or a doctor or nurse of the hospital caring for the patient, marks a scheduled
    appointment completed, cancelled or no-show."""
    appointment = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
    if appointment is None:
        raise PatientError("That appointment does not exist.")
    if not can_manage_appointment(user=actor, appointment=appointment):
        raise PatientError("Only the clinician, or a doctor or nurse of the hospital caring for the patient, can.")
    if status not in _APPOINTMENT_MOVES.get(appointment.status, set()):
        raise PatientError("This appointment cannot change that way.")
    appointment.status = status
    appointment.save(update_fields=["status"])
    return appointment


@transaction.atomic
def appointment_cancel_by_patient(*, actor: User, appointment_id: int) -> Appointment:
    """The patient cancels one of their own appointments that has not started yet."""
    appointment = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
    if appointment is None or not is_own_record(user=actor, patient=appointment.patient):
        raise PatientError("That appointment does not exist.")
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.starts_at <= timezone.now():
        raise PatientError("Only upcoming scheduled appointments can be cancelled.")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status"])
    return appointment


MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
)


def sniff_document(head: bytes, filename: str) -> str:
    """The content type by the file's first bytes, which must agree with its name."""
    name = (filename or "").lower()
    for magic, content_type, suffixes in _SIGNATURES:
        if head.startswith(magic):
            if not name.endswith(suffixes):
                raise PatientError("The file's name does not match its content.")
            return content_type
    raise PatientError("Only PDF, PNG and JPEG files can be uploaded.")


@transaction.atomic
def document_upload(*, actor: User, patient: Patient, upload, title: str):
    """Store a document encrypted, with the SHA-256 of its content. Clinicians with full access or the
    patient themself may upload."""
    import hashlib

    from .models import Document
    from .permissions import record_parts

    if "diagnoses" not in record_parts(user=actor, patient=patient):
        raise PatientError("You cannot add documents to this record.")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise PatientError("Give the document a title (up to 200 characters).")
    if upload is None or upload.size == 0:
        raise PatientError("Choose a file.")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise PatientError("Files can be at most 10 MB.")
    data = upload.read()
    content_type = sniff_document(data[:16], upload.name)
    document = Document(
        patient=patient,
        title=title,
        content_type=content_type,
        size=len(data),
        digest=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    from django.core.files.base import ContentFile

    document.file.save("upload", ContentFile(data), save=False)
    # The file is written before the row; if the transaction fails, remove it again.
    stored = document.file.name
    try:
        document.save()
    except Exception:
        document.file.storage.delete(stored)  # no orphan encrypted file when the row is not written
        raise
    return document


def document_read(*, actor: User, document_id: int):
    """(document, bytes) if `actor` may read it and it passes its digest check."""
    import hashlib

    from cryptography.fernet import InvalidToken

    from .models import Document
    from .permissions import record_parts

    document = Document.objects.select_related("patient").filter(pk=document_id).first()
    if document is None:
        return None, None
    if "diagnoses" not in record_parts(user=actor, patient=document.patient):
        raise PermissionError("no access")
    try:
        data = document.file.storage.read_decrypted(document.file.name)
    except (InvalidToken, OSError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != document.digest:
        raise PatientError(f"Document #{document.pk} failed its integrity check and cannot be opened.")
    return document, data


MAX_AMENDMENT_CHARS = 5000


@transaction.atomic
def amendment_request(*, actor: User, patient: Patient, target=None, text: str) -> Amendment:
    """The patient asks for a record of theirs (or, with no target, their details) to be amended.

    Only the patient themself may ask. The request waits for a doctor or nurse caring for them."""
    if not is_own_record(user=actor, patient=patient):
        raise PatientError("Only the patient can request amendments to their record.")
    text = (text or "").strip()
    if not text:
        raise PatientError("Say what should be amended and why.")
    if len(text) > MAX_AMENDMENT_CHARS:
        raise PatientError(f"Keep the request to {MAX_AMENDMENT_CHARS} characters.")
    amendment = Amendment(patient=patient, requested_by=actor, text=text)
    if target is not None:
        from django.contrib.contenttypes.models import ContentType

        target_type = ContentType.objects.get_for_model(type(target))
        if (
            target_type.app_label != "records"
            or target_type.model not in AMENDABLE_MODELS
            or target.pk is None
            or target.patient_id != patient.pk
        ):
            raise PatientError("Choose one of your own records, or your details.")
        amendment.target_type, amendment.target_id = target_type, target.pk
    amendment.created_at = timezone.now()
    amendment.digest = amendment.compute_digest()
    amendment.full_clean(exclude=["patient", "requested_by", "target_type"])
    amendment.save()
    return amendment


@transaction.atomic
def amendment_decide(*, actor: User, amendment_id: int, accept: bool, reason: str = "") -> Amendment:
    """A doctor or nurse with access to the patient's full record accepts or denies a request, once.

    A denial needs a reason, which the patient sees. The row is locked so two clinicians deciding
    at the same moment cannot both decide; the second is told it was already decided."""
    from cryptography.fernet import InvalidToken

    # Lock without decrypting first: who may decide is answered before any ciphertext is read.
    locked = Amendment.objects.select_for_update().filter(pk=amendment_id).only("id", "patient_id").first()
    if locked is None:
        raise PatientError("That amendment request does not exist.")
    if not can_decide_amendment(user=actor, patient=locked.patient):
        raise PatientError("Only a doctor or nurse with access to this patient's full record can decide amendments.")
    try:
        amendment = Amendment.objects.get(pk=locked.pk)
    except (InvalidToken, ValueError, TypeError):  # a ciphertext that no longer decrypts
        amendment = None
    if amendment is not None and amendment.requested_by_id == actor.pk:
        raise PatientError("You cannot decide on your own request.")
    if amendment is not None and amendment.status != AmendmentStatus.REQUESTED:
        raise PatientError("This amendment request has already been decided.")
    if amendment is None or not amendment.verify():
        raise PatientError("This amendment request failed its integrity check. Tell IT security.")
    reason = (reason or "").strip()
    if not accept and not reason:
        raise PatientError("Give the reason for the denial; the patient will see it.")
    if len(reason) > MAX_AMENDMENT_CHARS:
        raise PatientError(f"Keep the reason to {MAX_AMENDMENT_CHARS} characters.")
    amendment.status = AmendmentStatus.ACCEPTED if accept else AmendmentStatus.DENIED
    amendment.denial_reason = "" if accept else reason
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.digest = amendment.compute_digest()
    amendment.full_clean(exclude=["patient", "requested_by", "target_type", "decided_by"])
    amendment.save(update_fields=["status", "denial_reason", "decided_by", "decided_at", "digest"])
    return amendment
