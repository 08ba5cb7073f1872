"""Clinical writes: diagnoses, prescriptions (and dispensing them), lab orders and results, notes
and allergies. Each record is stored with the digest it is checked against on every read."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import (
    Allergy,
    ClinicalNote,
    Diagnosis,
    LabStatus,
    LabTest,
    Patient,
    Prescription,
    PrescriptionStatus,
)
from ..permissions import can_dispense, can_record_lab_result, can_write_clinical
from .common import PatientError


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
