"""Appointments: a patient's for the staff who may see them, the patient's own, and the clinicians
one can be booked with."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from audit.signals import phi_accessed

from ..models import Appointment, Patient
from ..permissions import can_view_appointments


def appointments_for_patient(*, user: User, patient: Patient) -> QuerySet[Appointment] | None:
    """The patient's appointments, newest first, for those who may see them (audited); None (and a
    denied audit row) for everyone else."""
    allowed = can_view_appointments(user=user, patient=patient)
    phi_accessed.send(
        sender=appointments_for_patient,
        action="view",
        category="demographics",
        patient_id=patient.pk,
        object_label=f"appointments of patient {patient.mrn}",
        outcome="success" if allowed else "denied",
        actor=user,
    )
    if not allowed:
        return None
    return (
        Appointment.objects.filter(patient=patient)
        .select_related("clinician", "hospital")
        .defer("clinician__phone")  # only names are shown: no decrypting their phones
        .order_by("-starts_at", "-id")
    )


def my_appointments(*, user: User, patient: Patient) -> dict:
    """The patient's own upcoming appointments (soonest first) and the latest 100 past ones. Two queries."""
    now = timezone.now()
    base = Appointment.objects.filter(patient=patient).select_related("clinician", "hospital").defer("clinician__phone")
    upcoming = list(base.filter(starts_at__gt=now).order_by("starts_at", "id"))
    past = list(base.filter(starts_at__lte=now).order_by("-starts_at", "-id")[:100])
    phi_accessed.send(
        sender=my_appointments,
        action="view",
        category="demographics",
        patient_id=patient.pk,
        object_label=f"appointments of patient {patient.mrn}",
        actor=user,
    )
    return {"patient": patient, "upcoming": upcoming, "past": past, "now": now}


def appointment_clinicians(*, user: User) -> QuerySet[User]:
    """Who an appointment can be booked with by `user`: active doctors and nurses of their hospital."""
    from accounts.roles import Role

    if user.hospital_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True, hospital_id=user.hospital_id, groups__name__in=[Role.DOCTOR.value, Role.NURSE.value]
        )
        .distinct()
        .defer("phone")  # the form shows names only
        .order_by("last_name", "first_name", "username")
    )
