"""Who hears about admission events and alerts: the hospital's ward staff and every emergency coordinator.

The texts go to inboxes, mail servers and SMS gateways, so they name the admission by its id,
the bed by its label, the ward and the hospital: never the patient (no name, no record number,
no reason for admission).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Hospital
from accounts.roles import Role
from accounts.selectors import users_to_notify
from accounts.services.notifications import notification_create

from .models import Admission, AdmissionStatus, AlertScope, Bed, BedKind, EmergencyAlert

WARD_ROLES = (Role.NURSE, Role.DOCTOR, Role.HOSPITAL_STAFF, Role.HOSPITAL_ADMIN)
COORDINATOR_ROLES = (Role.EMERGENCY_COORDINATOR,)
# A hold is announced once when it has at most this long left.
EXPIRY_WARNING = timedelta(minutes=10)

# event -> (subject, body); fields: kind, bed, ward, code, id, expires.
_TEXTS = {
    "booked": (
        "{kind} bed {bed} booked at {code}",
        "Admission {id} was booked into {kind} bed {bed} ({ward}, {code}).",
    ),
    "held": (
        "{kind} bed {bed} held at {code}",
        "Admission {id} holds {kind} bed {bed} ({ward}, {code}) until {expires}.",
    ),
    "confirmed": (
        "{kind} bed {bed} hold confirmed at {code}",
        "The patient of admission {id} arrived: the hold on {kind} bed {bed} ({ward}, {code}) is now an admission.",
    ),
    "transferred": (
        "{kind} bed {bed} taken by a transfer at {code}",
        "Admission {id} was transferred to {kind} bed {bed} ({ward}, {code}).",
    ),
    "discharged": (
        "{kind} bed {bed} discharged at {code}",
        "Admission {id} was discharged from {kind} bed {bed} ({ward}, {code}); the bed goes to cleaning.",
    ),
    "hold_released": (
        "{kind} bed {bed} hold released at {code}",
        "The hold of admission {id} on {kind} bed {bed} ({ward}, {code}) ended; the bed is free again.",
    ),
    "hold_expiring": (
        "{kind} bed {bed} hold expires at {expires} at {code}",
        "The hold of admission {id} on {kind} bed {bed} ({ward}, {code}) expires at {expires}. "
        "Confirm the admission when the patient arrives, or the bed is released.",
    ),
}
EVENTS = frozenset(_TEXTS)


def _clock(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {local.tzname()}"


def admission_event(admission: Admission, event: str, *, also_hospital_id: int | None = None) -> None:
    """Have the admission's hospital's ward staff and every coordinator notified, once the
    caller's transaction commits (never for a rolled-back change). The fan-out (who, and one
    inbox row each) runs in a worker, off the booking's path: the task gets ids only.

    event: booked, held, confirmed, transferred, discharged, hold_released, hold_expiring.
    `also_hospital_id`: another hospital whose staff must hear of it too (the source of a transfer).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown admission event {event!r}")
    admission_id = admission.pk

    def queue() -> None:
        from .tasks import announce_admission

        announce_admission.delay(admission_id, event, also_hospital_id)

    transaction.on_commit(queue, robust=True)


def admission_announce(admission_id: int, event: str, *, also_hospital_id: int | None = None) -> int:
    """Write the notifications of one admission event (their delivery is queued after commit).
    Returns how many were written."""
    if event not in EVENTS:
        raise ValueError(f"unknown admission event {event!r}")
    admission = Admission.objects.filter(pk=admission_id).only("pk", "bed_id", "hold_expires_at").first()
    if admission is None:
        return 0
    bed = Bed.objects.select_related("ward", "hospital").get(pk=admission.bed_id)
    fields = {
        "kind": BedKind(bed.kind).label,
        "bed": bed.label,
        "ward": bed.ward.name,
        "code": bed.hospital.code,
        "id": admission.pk,
        "expires": _clock(admission.hold_expires_at),
    }
    subject, body = _TEXTS[event]
    written = notification_create(
        recipients=users_to_notify(
            hospital_ids=sorted({bed.hospital_id, also_hospital_id} - {None}),
            hospital_roles=WARD_ROLES,
            global_roles=COORDINATOR_ROLES,
        ),
        kind=f"admission.{event}",
        subject=subject.format(**fields),
        body=body.format(**fields),
        link=reverse("beds:hospital", args=[bed.hospital_id]),
    )
    return len(written)


def alert_event(alert: EmergencyAlert) -> None:
    """Notify the ward staff the alert is for (its hospital, its region's hospitals, or all) and every
    coordinator. A coordinator's message is free text, so only automatic (generated) messages are
    copied into the notification; the others are read on the board."""
    if alert.scope == AlertScope.HOSPITAL:
        hospital_ids, where = [alert.hospital_id], alert.hospital.code
    elif alert.scope == AlertScope.REGION:
        hospital_ids = list(Hospital.objects.filter(region=alert.region).values_list("pk", flat=True))
        where = f"region {alert.region}"
    else:
        hospital_ids, where = None, "all hospitals"
    if alert.automatic:
        subject, body = f"Occupancy alert: {where}", alert.message
    else:
        subject, body = f"Emergency alert: {where}", "A coordinator sent an emergency alert. Read it on the bed board."
    notification_create(
        recipients=users_to_notify(
            hospital_ids=hospital_ids, hospital_roles=WARD_ROLES, global_roles=COORDINATOR_ROLES
        ),
        kind="alert.raised",
        subject=subject[:150],
        body=body,
        link=reverse("beds:board"),
    )


def holds_notify_expiring(*, now: datetime | None = None, within: timedelta = EXPIRY_WARNING) -> int:
    """Announce every hold that expires within `within`, once per hold (run by Celery beat).

    Admission.expiry_notified_at records the announcement, written under the admission's row lock
    in the same transaction as the notifications, so overlapping runs announce a hold only once.
    """
    now = now or timezone.now()
    horizon = now + within
    due = Admission.objects.filter(
        status=AdmissionStatus.HELD,
        hold_expires_at__gt=now,
        hold_expires_at__lte=horizon,
        expiry_notified_at__isnull=True,
    ).values_list("pk", flat=True)
    announced = 0
    for admission_id in list(due):
        with transaction.atomic():
            admission = Admission.objects.select_for_update().filter(pk=admission_id).first()
            if (
                admission is None
                or admission.status != AdmissionStatus.HELD
                or admission.expiry_notified_at is not None
                or not now < admission.hold_expires_at <= horizon
            ):
                continue
            # save(), never QuerySet.update(): admissions are audited.
            admission.expiry_notified_at = now
            admission.save(update_fields=["expiry_notified_at"])
            # Already in a worker: written in this transaction, with the mark that it was announced.
            admission_announce(admission.pk, "hold_expiring")
            announced += 1
    return announced
