"""Registering patients: the record, its encrypted demographics and the blind indexes searched by
name and phone."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from hospital.crypto import blind_index

from ..models import Patient
from .common import PatientError


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
