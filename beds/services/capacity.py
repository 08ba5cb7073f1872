"""Wards and beds: adding, closing, reopening; housekeeping; every status change through the map."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import Hospital, User

from ..models import LIVE_STATUSES, Bed, BedKind, BedStatus, Ward
from ..transitions import ADMISSION_ONLY, InvalidTransition, check_transition
from .events import bed_changed


class CapacityError(Exception):
    """A refusal with a message safe to show."""


@transaction.atomic
def ward_create(*, actor: User, hospital: Hospital, name: str, speciality: str = "") -> Ward:
    ward = Ward(hospital=hospital, name=name.strip(), speciality=speciality.strip())
    try:
        ward.full_clean()
    except Exception as exc:
        raise CapacityError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
    ward.save()
    return ward


@transaction.atomic
def ward_set_active(*, actor: User, ward_id: int, active: bool) -> Ward:
    ward = Ward.objects.select_for_update().filter(pk=ward_id).first()
    if ward is None:
        raise CapacityError("That ward does not exist.")
    if not active and ward.beds.filter(admissions__status__in=LIVE_STATUSES).exists():
        raise CapacityError("Discharge or transfer the patients of this ward before closing it.")
    ward.active = active
    ward.save(update_fields=["active"])
    return ward


@transaction.atomic
def bed_create(*, actor: User, ward: Ward, label: str, kind: str, equipment_notes: str = "") -> Bed:
    if kind not in BedKind.values:
        raise CapacityError("Choose general, HDU, ICU or ventilator.")
    bed = Bed(ward=ward, hospital_id=ward.hospital_id, label=label.strip(), kind=kind, equipment_notes=equipment_notes)
    try:
        bed.full_clean()
        with transaction.atomic():
            bed.save()
    except IntegrityError as exc:
        raise CapacityError(f"Ward {ward.name} already has a bed {label}.") from exc
    except Exception as exc:
        raise CapacityError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
    bed_changed(bed)
    return bed


@transaction.atomic
def bed_set_status(*, actor: User, bed_id: int, status: str) -> Bed:
    """Housekeeping and capacity: cleaning, available, closed, isolated. Occupancy comes from admissions."""
    if status not in BedStatus.values:
        raise CapacityError(f"Unknown bed status “{status}”.")
    if status in ADMISSION_ONLY:
        raise CapacityError("Beds become occupied or reserved only through a booking or a hold.")
    bed = Bed.objects.select_for_update().filter(pk=bed_id).first()
    if bed is None:
        raise CapacityError("That bed does not exist.")
    try:
        check_transition(bed.status, status)
    except InvalidTransition as exc:
        raise CapacityError(str(exc)) from exc
    bed.status = status
    bed.save(update_fields=["status", "updated_at"])
    bed_changed(bed)
    return bed
