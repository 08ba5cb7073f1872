"""Writes of patient data."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from hospital.crypto import blind_index

from .models import Patient


class PatientError(Exception):
    """A refusal with a message safe to show (never containing the patient's data)."""


@transaction.atomic
def patient_create(*, actor: User, mrn: str, name: str, date_of_birth: date) -> Patient:
    """Register a patient (for example on arrival in an emergency, before a full record exists)."""
    patient = Patient(mrn=(mrn or "").strip().upper(), name=(name or "").strip(), date_of_birth=date_of_birth)
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
