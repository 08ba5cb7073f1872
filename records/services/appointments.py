"""Appointments: booking one (the clinician joins the care team), marking it completed, cancelled or
no-show, and the patient cancelling their own. Cancelling ends the care-team grant the booking gave."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import Appointment, AppointmentStatus, GrantReason, GrantScope, Patient
from ..permissions import can_book_appointment, can_manage_appointment, is_own_record
from .common import PatientError
from .grants import _grant, grant_revoke

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
    appointment.full_clean(exclude=["patient", "clinician", "hospital", "grant"])
    hours = (starts_at - timezone.now()).total_seconds() / 3600 + 24
    appointment.grant = _grant(
        patient=patient,
        grantee=clinician,
        reason=GrantReason.CARE_TEAM,
        scope=GrantScope.FULL,
        hours=hours,
        actor=actor,
        why="appointment",
    )
    appointment.save()
    return appointment


def _cancel(appointment: Appointment, *, actor: User) -> None:
    """Cancel, and end the care-team access the booking gave (other grants of the clinician stay)."""
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status"])
    if appointment.grant_id is not None:
        grant_revoke(actor=actor, grant_id=appointment.grant_id)


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
    if status == AppointmentStatus.CANCELLED:
        _cancel(appointment, actor=actor)
    else:
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
    _cancel(appointment, actor=actor)
    return appointment
