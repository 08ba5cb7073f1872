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
