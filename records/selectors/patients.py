"""Finding patients: by record number, by name or phone number (keyed blind index) among those the
user holds a live grant for, and the audit row for a list of patients shown."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.signals import phi_accessed

from ..models import Patient


def own_patient(*, user: User) -> Patient | None:
    """The record linked to the signed-in account (a patient's own), or None (staff, strangers)."""
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).first()


def patient_by_mrn(*, mrn: str) -> Patient | None:
    return Patient.objects.filter(mrn=(mrn or "").strip().upper()).first()


def patients_by_name(*, name: str) -> list[Patient]:
    """Exact (case- and spacing-insensitive) name search through the blind index."""
    from hospital.crypto import blind_index

    if not (name or "").strip():
        return []
    return list(Patient.objects.filter(name_index=blind_index(name, purpose="patient.name")).order_by("mrn"))


# A phone number is searched only from this many digits on (fewer would match too widely).
PHONE_SEARCH_MIN_DIGITS = 6


def accessible_patients(*, user: User, query: str = "") -> QuerySet[Patient]:
    """The patients `user` holds a live grant for, by record number: nobody can list patients they may
    not see. With `query`, only those whose name matches it exactly (keyed blind index: upper/lower case
    and spacing ignored) or, when it has 6 digits or more, whose phone number has the same digits.

    One query when evaluated. Not audited here: whoever shows the rows calls `patients_listed`."""
    from hospital.crypto import blind_index

    from ..services import phone_digits

    patients = (
        Patient.objects.filter(
            grants__grantee=user, grants__revoked_at__isnull=True, grants__expires_at__gt=timezone.now()
        )
        .distinct()
        .order_by("mrn")
    )
    query = (query or "").strip()
    if not query:
        return patients
    match = Q(name_index=blind_index(query, purpose="patient.name"))
    digits = phone_digits(query)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS:
        match |= Q(phone_index=blind_index(digits, purpose="patient.phone"))
    return patients.filter(match)


def patients_listed(*, user: User, count: int, searched: bool) -> None:
    """Audit a list of `count` patients (record numbers and names: demographics) shown to `user`: one
    query row. The search terms are never recorded (a name or a phone number is itself PHI)."""
    if not count:
        return
    phi_accessed.send(
        sender=accessible_patients,
        action="query",
        category="demographics",
        object_label="patient search" if searched else "my patients",
        reason=f"{count} patient(s)",
        actor=user,
    )


def _accessible(*, user: User, **filters) -> list[Patient]:
    """Patients matching `filters` that the user holds a live grant for. One query."""
    return list(accessible_patients(user=user).filter(**filters))
