"""Writes of patient data: patients, access grants (care team, break-glass, consent codes), clinical
records (diagnoses, prescriptions, lab, notes, allergies), appointments, documents and amendments.

One module per subject; everything public is re-exported here, so callers keep importing from
`records.services`."""

from .amendments import MAX_AMENDMENT_CHARS, amendment_decide, amendment_request
from .appointments import appointment_cancel_by_patient, appointment_create, appointment_set_status
from .clinical import (
    allergy_create,
    diagnosis_create,
    lab_order,
    lab_result,
    note_create,
    prescription_create,
    prescription_dispense,
)
from .common import PatientError
from .documents import MAX_DOCUMENT_BYTES, document_read, document_upload, sniff_document
from .grants import (
    CONSENT_MAX_TRIES,
    break_glass,
    care_team_join,
    consent_code_create,
    consent_code_redeem,
    grant_care_team,
    grant_revoke,
    grant_revoke_by_patient,
    grants_expire,
)
from .patients import patient_create, phone_digits

__all__ = [
    "CONSENT_MAX_TRIES",
    "MAX_AMENDMENT_CHARS",
    "MAX_DOCUMENT_BYTES",
    "PatientError",
    "allergy_create",
    "amendment_decide",
    "amendment_request",
    "appointment_cancel_by_patient",
    "appointment_create",
    "appointment_set_status",
    "break_glass",
    "care_team_join",
    "consent_code_create",
    "consent_code_redeem",
    "diagnosis_create",
    "document_read",
    "document_upload",
    "grant_care_team",
    "grant_revoke",
    "grant_revoke_by_patient",
    "grants_expire",
    "lab_order",
    "lab_result",
    "note_create",
    "patient_create",
    "phone_digits",
    "prescription_create",
    "prescription_dispense",
    "sniff_document",
]
