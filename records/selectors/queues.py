"""The pharmacy and lab queues: work waiting at the user's hospital, by record number, never by name."""

from __future__ import annotations

from accounts.models import User
from audit.signals import phi_accessed

_PATIENT_PHI = (
    "patient__name",
    "patient__date_of_birth",
    "patient__phone",
    "patient__email",
    "patient__address",
    "patient__emergency_contact",
)


def _hospital_queue(*, user: User, model, status: str, secrets: tuple[str, ...], category: str, label: str) -> list:
    """Work waiting at the user's hospital, oldest first: record numbers, never names. One query."""
    if user.hospital_id is None:
        return []
    rows = list(
        model.objects.filter(hospital_id=user.hospital_id, status=status)
        .select_related("patient", "author")
        .defer(*secrets, *_PATIENT_PHI, "author__phone")
        .order_by("created_at", "id")[:200]
    )
    if rows:
        phi_accessed.send(
            sender=_hospital_queue,
            action="query",
            category=category,
            object_label=f"{label} of hospital {user.hospital_id}",
            reason=f"{len(rows)} item(s)",
            actor=user,
        )
    return rows


def pharmacy_queue(*, user: User) -> list:
    from ..models import Prescription, PrescriptionStatus

    return _hospital_queue(
        user=user,
        model=Prescription,
        status=PrescriptionStatus.PRESCRIBED,
        secrets=("instructions",),
        category="prescription",
        label="pharmacy queue",
    )


def lab_queue(*, user: User) -> list:
    from ..models import LabStatus, LabTest

    return _hospital_queue(
        user=user,
        model=LabTest,
        status=LabStatus.ORDERED,
        secrets=("result", "reference_range"),
        category="lab_result",
        label="lab queue",
    )
