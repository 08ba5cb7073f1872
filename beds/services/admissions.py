"""Booking, holds, transfers and discharges.

Locks are always taken in one order: the admission first, then beds by ascending id. The
database refuses a second live admission on a bed (Admission.live_bed is unique) and a second
active admission of a patient (Admission.active_patient), whatever Python does.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Hospital, User
from records.models import Patient
from records.services import care_team_join

from .. import notify
from ..conf import hold_duration
from ..models import Admission, AdmissionStatus, Bed, BedKind, BedStatus, Priority, Ward
from ..transitions import check_transition
from .events import bed_changed


class BookingError(Exception):
    """A refusal a clinician can act on; the message is safe to show."""


def _lock_free_bed(*, kind: str, hospital: Hospital | None, region: str | None) -> Bed | None:
    if hospital is None and not region:
        raise BookingError("Choose a hospital or a region.")
    if hospital is not None:
        if not hospital.active:
            return None
        wards = Ward.objects.filter(hospital_id=hospital.pk, active=True)
    else:
        wards = Ward.objects.filter(active=True, hospital__active=True, hospital__region=region)
    ward_ids = list(wards.order_by().values_list("id", flat=True))
    free = Bed.objects.filter(ward_id__in=ward_ids, kind=kind, status=BedStatus.AVAILABLE)
    if hospital is not None:
        # With the hospital named, the (hospital, kind, status) index finds its free beds of the
        # kind directly, in id order, instead of walking every bed of the wards (or the table).
        return _lock_first(free.filter(hospital_id=hospital.pk))
    # The best hospital in the region: the one with the most free beds of this kind.
    ranked = (
        free.values("hospital_id")
        .annotate(free=Count("id"))
        .order_by("-free", "hospital_id")
        .values_list("hospital_id", flat=True)
    )
    for hospital_id in list(ranked):
        bed = _lock_first(free.filter(hospital_id=hospital_id))
        if bed is not None:
            return bed
    return None


def _lock_first(beds) -> Bed | None:
    # One table only, so only bed rows are locked (a join would lock the ward and hospital
    # rows too and make every booker of the hospital queue, or skip, on them). Lowest id
    # first; on MariaDB/MySQL beds another booker holds are skipped rather than waited for,
    # so racing bookers take different beds. SQLite serializes writers anyway.
    if connection.features.has_select_for_update_skip_locked:
        qs = beds.select_for_update(skip_locked=True)
    else:
        qs = beds.select_for_update()
    bed = qs.order_by("id").first()
    if bed is not None and bed.status != BedStatus.AVAILABLE:
        return None
    return bed


def _set_bed_status(bed: Bed, status: str) -> None:
    check_transition(bed.status, status)
    bed.status = status
    bed.save(update_fields=["status", "updated_at"])
    bed_changed(bed)


def _reserve_bed(*, kind: str, priority: str, hospital: Hospital | None, region: str | None) -> Bed:
    """Validate the request, then lock a free bed for it or refuse with a message."""
    if kind not in BedKind.values:
        raise BookingError(f"Unknown bed kind “{kind}”. Choose general, HDU, ICU or ventilator.")
    if priority not in Priority.values:
        raise BookingError(f"Unknown priority “{priority}”. Choose emergency, urgent or elective.")
    bed = _lock_free_bed(kind=kind, hospital=hospital, region=region)
    if bed is None:
        where = hospital.name if hospital else f"region {region}"
        raise BookingError(f"No {BedKind(kind).label} bed is free in {where}.")
    return bed


def _create(admission: Admission) -> Admission:
    # The related objects were just loaded (and the bed locked): no need to re-query them. The
    # uniqueness and check constraints are the database's to enforce (see the IntegrityError below);
    # checking them here first would cost a query each and still race. No savepoint either: a
    # refusal ends the caller's transaction (every caller is atomic and lets BookingError out).
    admission.clean_fields(exclude=["live_bed", "active_patient", "patient", "bed", "hospital", "booked_by"])
    admission.clean()
    try:
        admission.save()
    except IntegrityError as exc:
        # The database names the constraint that refused the row: the patient's one active
        # admission (Admission.active_patient), or else the bed's one live admission.
        if "active_patient" in str(exc):
            raise BookingError("This patient already has an active admission.") from exc
        raise BookingError("That bed was taken by another booking a moment ago. Try again.") from exc
    return admission


@transaction.atomic
def admission_book(
    *,
    actor: User,
    patient: Patient,
    kind: str,
    hospital: Hospital | None = None,
    region: str | None = None,
    priority: str = Priority.URGENT,
    reason: str = "",
) -> Admission:
    """Find a free bed of `kind` (in `hospital`, or the best one in `region`), lock it and admit the patient.

    A patient already admitted is refused by the database (Admission.active_patient is unique),
    which _create turns into a clear message; asking first would cost every booking a query.
    """
    bed = _reserve_bed(kind=kind, priority=priority, hospital=hospital, region=region)
    now = timezone.now()
    admission = _create(
        Admission(
            patient=patient,
            bed=bed,
            hospital_id=bed.hospital_id,
            priority=priority,
            reason=reason,
            booked_by=actor,
            status=AdmissionStatus.ACTIVE,
            admitted_at=now,
            live_bed=bed.pk,
            active_patient=patient.pk,
        )
    )
    _set_bed_status(bed, BedStatus.OCCUPIED)
    care_team_join(patient=patient, clinician=actor)
    notify.admission_event(admission, "booked")
    return admission


@transaction.atomic
def admission_hold(
    *,
    actor: User,
    patient: Patient,
    kind: str,
    hospital: Hospital | None = None,
    region: str | None = None,
    priority: str = Priority.EMERGENCY,
    reason: str = "",
    minutes: int | None = None,
) -> Admission:
    """Reserve a bed for an incoming patient until the hold expires (default BED_HOLD_MINUTES)."""
    duration = timedelta(minutes=minutes) if minutes is not None else hold_duration()
    if not timedelta(minutes=1) <= duration <= timedelta(hours=12):
        raise BookingError("A hold lasts from 1 minute to 12 hours.")
    bed = _reserve_bed(kind=kind, priority=priority, hospital=hospital, region=region)
    admission = _create(
        Admission(
            patient=patient,
            bed=bed,
            hospital_id=bed.hospital_id,
            priority=priority,
            reason=reason,
            booked_by=actor,
            status=AdmissionStatus.HELD,
            hold_expires_at=timezone.now() + duration,
            live_bed=bed.pk,
        )
    )
    _set_bed_status(bed, BedStatus.RESERVED)
    care_team_join(patient=patient, clinician=actor)
    notify.admission_event(admission, "held")
    return admission


def _lock_admission(admission_id: int) -> Admission:
    admission = Admission.objects.select_for_update().filter(pk=admission_id).first()
    if admission is None:
        raise BookingError("That admission does not exist.")
    return admission


def _lock_beds(*ids: int) -> dict[int, Bed]:
    return {bed.pk: bed for bed in Bed.objects.select_for_update().filter(pk__in=ids).order_by("id")}


@transaction.atomic
def admission_confirm_hold(*, actor: User, admission_id: int) -> Admission:
    """The patient arrived: the hold becomes an active admission."""
    admission = _lock_admission(admission_id)
    if admission.status != AdmissionStatus.HELD:
        raise BookingError("Only a held bed can be confirmed.")
    if admission.hold_expires_at <= timezone.now():
        raise BookingError("This hold has expired; book a bed again.")
    bed = _lock_beds(admission.bed_id)[admission.bed_id]
    admission.status = AdmissionStatus.ACTIVE
    admission.admitted_at = timezone.now()
    admission.hold_expires_at = None
    admission.active_patient = admission.patient_id
    try:
        with transaction.atomic():
            admission.save(update_fields=["status", "admitted_at", "hold_expires_at", "active_patient"])
    except IntegrityError as exc:
        raise BookingError("This patient already has an active admission.") from exc
    _set_bed_status(bed, BedStatus.OCCUPIED)
    notify.admission_event(admission, "confirmed")
    return admission


def _end_hold(admission: Admission) -> None:
    bed = _lock_beds(admission.bed_id)[admission.bed_id]
    admission.status = AdmissionStatus.CANCELLED
    admission.live_bed = None
    admission.save(update_fields=["status", "live_bed"])
    _set_bed_status(bed, BedStatus.AVAILABLE)
    notify.admission_event(admission, "hold_released")


@transaction.atomic
def admission_cancel_hold(*, actor: User, admission_id: int) -> Admission:
    admission = _lock_admission(admission_id)
    if admission.status != AdmissionStatus.HELD:
        raise BookingError("Only a held bed can be released.")
    _end_hold(admission)
    return admission


def holds_release_expired(*, now=None) -> int:
    """Release every hold past its expiry (run by Celery beat). Each in its own transaction."""
    now = now or timezone.now()
    released = 0
    for admission_id in Admission.objects.filter(status=AdmissionStatus.HELD, hold_expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            admission = _lock_admission(admission_id)
            if admission.status == AdmissionStatus.HELD and admission.hold_expires_at <= now:
                _end_hold(admission)
                released += 1
    return released


@transaction.atomic
def admission_transfer(*, actor: User, admission_id: int, to_bed_id: int) -> Admission:
    """Move an active admission to another free bed (same or another hospital)."""
    admission = _lock_admission(admission_id)
    if admission.status != AdmissionStatus.ACTIVE:
        raise BookingError("Only an active admission can be transferred.")
    if admission.bed_id == to_bed_id:
        raise BookingError("The patient is already in that bed.")
    beds = _lock_beds(admission.bed_id, to_bed_id)
    target = beds.get(to_bed_id)
    if target is None:
        raise BookingError("That bed does not exist.")
    if target.status != BedStatus.AVAILABLE or not target.ward.active:
        raise BookingError(f"Bed {target.label} is not free.")
    source = beds[admission.bed_id]
    admission.bed = target
    admission.hospital_id = target.hospital_id
    admission.live_bed = target.pk
    admission.save(update_fields=["bed", "hospital", "live_bed"])
    _set_bed_status(source, BedStatus.CLEANING)
    _set_bed_status(target, BedStatus.OCCUPIED)
    notify.admission_event(admission, "transferred", also_hospital_id=source.hospital_id)
    return admission


@transaction.atomic
def admission_discharge(*, actor: User, admission_id: int) -> Admission:
    """End the admission; the bed goes to cleaning."""
    admission = _lock_admission(admission_id)
    if admission.status != AdmissionStatus.ACTIVE:
        raise BookingError("Only an active admission can be discharged.")
    bed = _lock_beds(admission.bed_id)[admission.bed_id]
    admission.status = AdmissionStatus.DISCHARGED
    admission.discharged_at = timezone.now()
    admission.live_bed = None
    admission.active_patient = None
    admission.save(update_fields=["status", "discharged_at", "live_bed", "active_patient"])
    _set_bed_status(bed, BedStatus.CLEANING)
    notify.admission_event(admission, "discharged")
    return admission
