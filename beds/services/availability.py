"""The board's aggregate: free/occupied/total beds per hospital and kind, and occupancy alerts."""

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q

from ..models import AlertScope, Availability, Bed, BedKind, BedStatus, EmergencyAlert

ALERT_KINDS = (BedKind.ICU, BedKind.VENTILATOR)


@transaction.atomic
def availability_refresh(*, hospital_id: int, kinds: set[str] | None = None) -> list[Availability]:
    """Recount one hospital's beds (of `kinds`, or all) and store the figures the board shows."""
    kinds = set(kinds) if kinds else set(BedKind.values)
    counts = {
        row["kind"]: row
        for row in Bed.objects.filter(hospital_id=hospital_id, kind__in=kinds)
        .exclude(status=BedStatus.CLOSED)
        .values("kind")
        .annotate(
            total=Count("id"),
            free=Count("id", filter=Q(status=BedStatus.AVAILABLE, ward__active=True)),
            occupied=Count("id", filter=Q(status__in=[BedStatus.OCCUPIED, BedStatus.RESERVED])),
        )
    }
    existing = {
        a.kind: a for a in Availability.objects.select_for_update().filter(hospital_id=hospital_id, kind__in=kinds)
    }
    rows = []
    for kind in sorted(kinds):
        row = counts.get(kind, {"total": 0, "free": 0, "occupied": 0})
        current = existing.get(kind)
        if current is None:
            if row["total"] == 0:
                continue
            current = Availability(hospital_id=hospital_id, kind=kind)
        before = (current.occupied, current.total)
        after = (row["free"], row["total"], row["occupied"])
        rows.append(current)
        if current.pk and (current.free, current.total, current.occupied) == after:
            continue
        current.free, current.total, current.occupied = after
        current.save()
        if kind in ALERT_KINDS:
            _maybe_alert(hospital_id=hospital_id, kind=kind, before=before, after=(current.occupied, current.total))
    return rows


def _share(occupied: int, total: int) -> float:
    return occupied / total if total else 0.0


def _maybe_alert(*, hospital_id: int, kind: str, before: tuple[int, int], after: tuple[int, int]) -> None:
    threshold = settings.BED_ALERT_THRESHOLD
    was, now = _share(*before), _share(*after)
    open_alert = EmergencyAlert.objects.filter(
        automatic=True, hospital_id=hospital_id, kind=kind, resolved_at__isnull=True
    ).first()
    if now >= threshold and was < threshold and open_alert is None:
        from accounts.models import Hospital

        hospital = Hospital.objects.get(pk=hospital_id)
        alert = EmergencyAlert.objects.create(
            message=(
                f"{hospital.code}: {BedKind(kind).label} occupancy at {now:.0%} "
                f"({after[0]} of {after[1]} beds) — threshold {threshold:.0%}."
            ),
            scope=AlertScope.HOSPITAL,
            hospital_id=hospital_id,
            region=hospital.region,
            kind=kind,
            automatic=True,
        )
        from .alerts import alert_published

        alert_published(alert)
    elif now < threshold and open_alert is not None:
        from django.utils import timezone

        open_alert.resolved_at = timezone.now()
        open_alert.save(update_fields=["resolved_at"])
