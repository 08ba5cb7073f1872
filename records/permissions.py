"""The one place that answers "may this user see this patient's record, and how much of it"."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User

from .models import AccessGrant, GrantScope, Patient

# What each scope opens.
_SCOPE_PARTS = {
    GrantScope.FULL: {"demographics", "diagnoses", "prescriptions", "lab"},
    GrantScope.DEMOGRAPHICS: {"demographics"},
    GrantScope.PRESCRIPTIONS: {"demographics", "prescriptions"},
    GrantScope.LAB: {"demographics", "lab"},
}


def live_grants(*, user: User, patient: Patient):
    return AccessGrant.objects.filter(
        grantee=user, patient=patient, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def record_parts(*, user: User, patient: Patient) -> set[str]:
    """The parts of the record `user` may read now: empty when none. Expired grants stop at once."""
    if not user.is_authenticated:
        return set()
    if patient.user_id is not None and patient.user_id == user.pk:
        return set(_SCOPE_PARTS[GrantScope.FULL])
    parts: set[str] = set()
    for scope in live_grants(user=user, patient=patient).values_list("scope", flat=True):
        parts |= _SCOPE_PARTS[GrantScope(scope)]
    return parts


def can_write_clinical(*, user: User, patient: Patient) -> bool:
    from accounts.roles import Role

    return user.has_role(Role.DOCTOR) and "diagnoses" in record_parts(user=user, patient=patient)


def can_break_glass(user: User) -> bool:
    from accounts.roles import Role

    return any(user.has_role(r) for r in (Role.DOCTOR, Role.NURSE, Role.EMERGENCY_COORDINATOR))


def can_grant(user: User) -> bool:
    from accounts.roles import Role

    return user.is_superuser or user.has_role(Role.HOSPITAL_ADMIN)


def is_clinician(user: User) -> bool:
    from accounts.roles import Role

    return user.has_role(Role.DOCTOR) or user.has_role(Role.NURSE)


def can_view_appointments(*, user: User, patient: Patient, parts: set[str] | None = None) -> bool:
    """Appointments are shown with the demographics: any grant (or the patient themself) opens them.
    `parts`, when the caller already has them, saves a query (here and below)."""
    if parts is None:
        parts = record_parts(user=user, patient=patient)
    return "demographics" in parts


def can_book_appointment(*, user: User, patient: Patient, parts: set[str] | None = None) -> bool:
    """Booking puts the chosen clinician on the full care team until a day after the appointment, so
    only someone who could open the full record (a doctor or nurse with full access) or grant access
    (a hospital admin) may book: a demographics-only grant must not widen itself."""
    if can_grant(user):
        return True
    if parts is None:
        parts = record_parts(user=user, patient=patient)
    return is_clinician(user) and "diagnoses" in parts


def can_manage_appointment(*, user: User, appointment, parts: set[str] | None = None) -> bool:
    """Mark an appointment completed, cancelled or no-show: its clinician, or a doctor or nurse of its
    hospital who may see the patient."""
    if user.pk == appointment.clinician_id:
        return True
    if not is_clinician(user) or user.hospital_id is None or user.hospital_id != appointment.hospital_id:
        return False
    if parts is None:
        parts = record_parts(user=user, patient=appointment.patient)
    return "demographics" in parts


def is_own_record(*, user: User, patient: Patient) -> bool:
    """The user is the patient (the account linked to the record)."""
    return user.is_authenticated and patient.user_id is not None and patient.user_id == user.pk


def can_decide_amendment(*, user: User, patient: Patient, parts: set[str] | None = None) -> bool:
    """A doctor or nurse with access to the patient's full record accepts or denies amendment requests."""
    if parts is None:
        parts = record_parts(user=user, patient=patient)
    return is_clinician(user) and "diagnoses" in parts


def can_redeem_consent(user: User) -> bool:
    """A patient's consent code is for whoever cares for them: a doctor, nurse, pharmacy or lab.
    Other roles (auditors, IT security, administrators, patients) cannot turn one into a grant."""
    from accounts.roles import Role

    care = (Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.LAB_TECHNICIAN)
    return user.is_authenticated and user.is_active and any(user.has_role(r) for r in care)


def can_search_patients(user: User) -> bool:
    """Patient search and the list of one's own patients are for staff (any role but patient)."""
    from accounts.roles import STAFF_ROLES

    return user.is_authenticated and user.is_staff_member and bool(user.role_names & {r.value for r in STAFF_ROLES})


def can_use_pharmacy_queue(user: User) -> bool:
    from accounts.roles import Role

    return user.has_role(Role.PHARMACIST)


def can_use_lab_queue(user: User) -> bool:
    from accounts.roles import Role

    return user.has_role(Role.LAB_TECHNICIAN)


def can_dispense(*, user: User, prescription) -> bool:
    """A pharmacist of the prescribing hospital dispenses (no grant on the patient needed: the queue
    shows record numbers and what was prescribed, never the chart)."""
    return can_use_pharmacy_queue(user) and user.hospital_id == prescription.hospital_id


def can_record_lab_result(*, user: User, lab_test) -> bool:
    """A lab technician of the ordering hospital records the result."""
    return can_use_lab_queue(user) and user.hospital_id == lab_test.hospital_id
