"""Reads for the board, the hospital view and the dashboard: a fixed number of queries each."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Prefetch
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Hospital

from .models import (
    LIVE_STATUSES,
    Admission,
    Availability,
    Bed,
    BedKind,
    EmergencyAlert,
    Ward,
)

KINDS = list(BedKind.values)


def availability_board(*, region: str = "", kind: str = "", hospital_id: int | None = None) -> list[dict]:
    """Every active hospital with free/total beds per kind, most free first. One query."""
    rows = Availability.objects.filter(hospital__active=True).select_related("hospital")
    if hospital_id is not None:
        rows = rows.filter(hospital_id=hospital_id)
    if region:
        rows = rows.filter(hospital__region=region)
    board: dict[int, dict] = {}
    for row in rows:
        entry = board.setdefault(
            row.hospital_id,
            {
                "hospital_id": row.hospital_id,
                "code": row.hospital.code,
                "name": row.hospital.name,
                "region": row.hospital.region,
                "kinds": {k: {"free": 0, "total": 0} for k in KINDS},
            },
        )
        entry["kinds"][row.kind] = {"free": row.free, "total": row.total}
    entries = list(board.values())
    for entry in entries:
        entry["free"] = entry["kinds"][kind]["free"] if kind else sum(v["free"] for v in entry["kinds"].values())
        entry["total"] = entry["kinds"][kind]["total"] if kind else sum(v["total"] for v in entry["kinds"].values())
    if kind:
        entries = [e for e in entries if e["total"] > 0]
    entries.sort(key=lambda e: (-e["free"], e["name"]))
    return entries


def _board_stamp() -> str:
    """Changes whenever any board figure changes (every change moves Availability.updated_at)."""
    from django.db.models import Max

    stamp = Availability.objects.aggregate(at=Max("updated_at"))["at"]
    return stamp.isoformat() if stamp else "-"


def _cached(key: str, compute):
    from django.conf import settings
    from django.core.cache import cache

    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, getattr(settings, "BOARD_CACHE_SECONDS", 60))
    return value


def availability_board_cached(*, region: str = "", kind: str = "") -> list[dict]:
    """The board from the cache while no figure changed: one indexed query to know that.

    Reads far outnumber bed changes. A bed change is never served stale; deactivating a
    hospital shows within BOARD_CACHE_SECONDS.
    """
    key = f"beds:board:{_board_stamp()}:{region}:{kind}"
    return _cached(key, lambda: availability_board(region=region, kind=kind))


def availability_board_json(*, region: str = "", kind: str = "") -> bytes:
    """The availability API's body, rendered once per change of the figures."""
    import json

    def render() -> bytes:
        board = availability_board(region=region, kind=kind)
        return json.dumps({"count": len(board), "results": board}, separators=(",", ":")).encode()

    return _cached(f"beds:board-json:{_board_stamp()}:{region}:{kind}", render)


def regions() -> list[str]:
    return list(Hospital.objects.filter(active=True).order_by("region").values_list("region", flat=True).distinct())


def open_alerts(*, limit: int = 20) -> list[EmergencyAlert]:
    return list(EmergencyAlert.objects.filter(resolved_at__isnull=True).select_related("hospital")[:limit])


def hospital_grid(*, hospital: Hospital) -> list[Ward]:
    """Wards with their beds and each bed's live admission (patient id only). Three queries."""
    live = Admission.objects.filter(status__in=LIVE_STATUSES).only(
        "id", "bed_id", "status", "hold_expires_at", "priority", "patient_id"
    )
    wards = list(
        Ward.objects.filter(hospital=hospital)
        .order_by("name")
        .prefetch_related(
            Prefetch(
                "beds",
                queryset=Bed.objects.order_by("id").prefetch_related(
                    Prefetch("admissions", queryset=live, to_attr="live_admissions")
                ),
            )
        )
    )
    for ward in wards:
        for bed in ward.beds.all():
            bed.live = bed.live_admissions[0] if bed.live_admissions else None
    return wards


def dashboard(*, hospital_ids: list[int] | None = None) -> dict:
    """Totals, utilisation per hospital and kind, admissions per day for 7 days, recent admissions."""
    availability = Availability.objects.select_related("hospital").filter(hospital__active=True)
    if hospital_ids is not None:
        availability = availability.filter(hospital_id__in=hospital_ids)
    per_hospital: dict[int, dict] = {}
    per_kind = {k: {"total": 0, "occupied": 0, "free": 0} for k in KINDS}
    for row in availability:
        h = per_hospital.setdefault(
            row.hospital_id,
            {"code": row.hospital.code, "name": row.hospital.name, "total": 0, "occupied": 0, "free": 0},
        )
        for bucket in (h, per_kind[row.kind]):
            bucket["total"] += row.total
            bucket["occupied"] += row.occupied
            bucket["free"] += row.free
    for bucket in [*per_hospital.values(), *per_kind.values()]:
        bucket["utilisation"] = round(100 * bucket["occupied"] / bucket["total"]) if bucket["total"] else 0
    totals = {key: sum(b[key] for b in per_kind.values()) for key in ("total", "occupied", "free")}
    totals["utilisation"] = round(100 * totals["occupied"] / totals["total"]) if totals["total"] else 0

    since = timezone.now() - timedelta(days=6)
    start = timezone.localdate() - timedelta(days=6)
    admissions = Admission.objects.filter(created_at__gte=since.replace(hour=0, minute=0, second=0, microsecond=0))
    if hospital_ids is not None:
        admissions = admissions.filter(hospital_id__in=hospital_ids)
    by_day = dict(
        admissions.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")).values_list("day", "n")
    )
    days = [start + timedelta(days=i) for i in range(7)]
    recent = Admission.objects.select_related("bed", "hospital").order_by("-created_at")
    if hospital_ids is not None:
        recent = recent.filter(hospital_id__in=hospital_ids)
    return {
        "totals": totals,
        "per_kind": per_kind,
        "per_hospital": sorted(per_hospital.values(), key=lambda h: -h["utilisation"]),
        "days": [{"day": d.isoformat(), "admissions": by_day.get(d, 0)} for d in days],
        "recent": list(recent[:10]),
    }
