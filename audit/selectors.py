"""Reads of the audit trail: filtered, sorted and keyset-paginated (constant cost per page)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from .models import AuditEvent

# column -> (expression to sort on, how to read it back from a row for the cursor)
SORTABLE = {
    "occurred_at": "occurred_at",
    "actor_name": "actor_name",
    "actor_role": "actor_role",
    "patient_id": "patient_id",
    "action": "action",
    "category": "category",
    "object_label": "object_label",
    "outcome": "outcome",
    "ip_address": "ip_address",
}
# Nullable columns sort through a sentinel so keyset comparisons never meet NULL.
_NULL_SENTINEL = {"patient_id": Value(0), "ip_address": Value("")}
DEFAULT_SORT = "-occurred_at"


@dataclass
class AuditFilters:
    start: datetime | None = None
    end: datetime | None = None
    actor_id: int | None = None
    actor_name: str = ""
    patient_id: int | None = None
    action: str = ""
    category: str = ""
    outcome: str = ""

    def as_q(self) -> Q:
        q = Q()
        if self.start:
            q &= Q(occurred_at__gte=self.start)
        if self.end:
            q &= Q(occurred_at__lt=self.end)
        if self.actor_id is not None:
            q &= Q(actor_id=self.actor_id)
        if self.actor_name:
            q &= Q(actor_name=self.actor_name.strip().lower())
        if self.patient_id is not None:
            q &= Q(patient_id=self.patient_id)
        for name in ("action", "category", "outcome"):
            value = getattr(self, name)
            if value:
                q &= Q(**{name: value})
        return q

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.__dict__.items() if v not in (None, "")]
        return ", ".join(parts) or "no filter"


@dataclass
class Page:
    rows: list[AuditEvent]
    sort: str
    next_cursor: str | None = None
    prev_cursor: str | None = None
    notes: list[str] = field(default_factory=list)


def parse_sort(value: str | None) -> str:
    value = (value or DEFAULT_SORT).strip()
    return value if value.lstrip("-") in SORTABLE else DEFAULT_SORT


def _sort_parts(sort: str) -> tuple[str, bool]:
    return sort.lstrip("-"), sort.startswith("-")


def _annotated(qs: QuerySet, column: str) -> QuerySet:
    expr = F(column)
    if column in _NULL_SENTINEL:
        expr = Coalesce(column, _NULL_SENTINEL[column])
    return qs.annotate(sort_value=expr)


def encode_cursor(row: AuditEvent, direction: str) -> str:
    value = row.sort_value
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([direction, value, row.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, object, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, value, pk = json.loads(raw)
        if direction not in ("next", "prev") or not isinstance(pk, int):
            return None
        if isinstance(value, dict) and set(value) == {"dt"}:
            value = datetime.fromisoformat(value["dt"])
        elif not isinstance(value, str | int) or isinstance(value, bool):
            return None
        return direction, value, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None


def events_base() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("content_type")


def audit_events_page(
    *, filters: AuditFilters, sort: str = DEFAULT_SORT, cursor: str | None = None, size: int = 50
) -> Page:
    """One page of events in `sort` order, after or before `cursor`. One query, whatever the table size."""
    sort = parse_sort(sort)
    column, descending = _sort_parts(sort)
    qs = _annotated(events_base().filter(filters.as_q()), column)
    notes = []
    decoded = decode_cursor(cursor) if cursor else None
    if cursor and decoded is None:
        notes.append("The page link was not valid; showing the first page.")
    direction = "next"
    if decoded is not None:
        direction, value, pk = decoded
        forward = direction == "next"
        # Rows after the cursor in display order (or before it, for the previous page).
        after = descending == forward
        if after:
            qs = qs.filter(Q(sort_value__lt=value) | Q(sort_value=value, pk__lt=pk))
        else:
            qs = qs.filter(Q(sort_value__gt=value) | Q(sort_value=value, pk__gt=pk))
    reverse = direction == "prev"
    desc = descending != reverse
    order = ["-sort_value", "-pk"] if desc else ["sort_value", "pk"]
    rows = list(qs.order_by(*order)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    page = Page(rows=rows, sort=sort, notes=notes)
    if not rows:
        return page
    if reverse:
        rows.reverse()  # fetched backwards from the cursor; shown in display order
        page.next_cursor = encode_cursor(rows[-1], "next")
        page.prev_cursor = encode_cursor(rows[0], "prev") if has_more else None
    else:
        page.next_cursor = encode_cursor(rows[-1], "next") if has_more else None
        page.prev_cursor = encode_cursor(rows[0], "prev") if decoded is not None else None
    return page


def audit_events_for_export(*, filters: AuditFilters, sort: str = DEFAULT_SORT):
    sort = parse_sort(sort)
    column, descending = _sort_parts(sort)
    qs = _annotated(events_base().filter(filters.as_q()), column)
    order = ["-sort_value", "-pk"] if descending else ["sort_value", "pk"]
    return qs.order_by(*order).iterator(chunk_size=2000)
