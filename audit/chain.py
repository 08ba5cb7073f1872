"""The hash chain: canonical content of an event, its hash, and the serialized append."""

import hashlib
import json
from datetime import UTC, datetime

from django.db import connection, models

GENESIS = "0" * 64

# Every field that the hash covers, in a fixed order. `hash` itself is not in it.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "activity_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "patient_id",
    "action",
    "content_type_id",
    "object_id",
    "object_label",
    "category",
    "changes",
    "ip_address",
    "user_agent",
    "request_id",
    "reason",
    "outcome",
    "prev_hash",
)


def _canonical_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat(timespec="microseconds")
    return value


def canonical(values: dict) -> bytes:
    data = {name: _canonical_value(values.get(name)) for name in HASHED_FIELDS}
    if data["changes"] in (None, ""):
        data["changes"] = {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(values: dict) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def event_values(event) -> dict:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


# Plain, constant SQL: this runs inside every audited write, and building these two queries
# with the ORM was most of the audit's cost. The table is ChainHead's (audit_chainhead).
_SELECT_HEAD = "SELECT seq, hash FROM audit_chainhead WHERE id = %s"
_SELECT_HEAD_FOR_UPDATE = "SELECT seq, hash FROM audit_chainhead WHERE id = %s FOR UPDATE"
_ADVANCE_HEAD = "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = %s"


def lock_head() -> tuple[int, str]:
    """Lock the chain head and return (seq, hash) of the last event.

    The row lock lasts until the surrounding transaction ends, so appends never interleave.
    On SQLite the IMMEDIATE transaction already holds the database's write lock.
    """
    sql = _SELECT_HEAD_FOR_UPDATE if connection.features.has_select_for_update else _SELECT_HEAD
    with connection.cursor() as cursor:
        cursor.execute(sql, [1])
        row = cursor.fetchone()
        if row is None:
            _recreate_head()
            cursor.execute(sql, [1])
            row = cursor.fetchone()
    return int(row[0]), row[1]


def _recreate_head() -> None:
    """The head row is gone (a flushed database, or removed by hand): rebuild it from the last event."""
    from .models import AuditEvent, ChainHead

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, GENESIS)
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": last[0], "hash": last[1]})


def advance_head(seq: int, hash_: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_HEAD, [seq, hash_, 1])


_insert_cache: dict[str, tuple[list, str]] = {}


def _adapter(field):
    """How one event field's value becomes a query parameter (what the ORM would do, minus its overhead)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.JSONField):
        return lambda value: ops.adapt_json_value(value, field.encoder)
    if isinstance(field, models.GenericIPAddressField):
        return lambda value: ops.adapt_ipaddressfield_value(value or None)
    return None


def _insert_statement() -> tuple[list, str]:
    """(attname, adapter) for each column and the INSERT for them, built once per database vendor."""
    vendor = connection.vendor
    if vendor not in _insert_cache:
        from .models import AuditEvent

        fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        plan = [(f.attname, _adapter(f)) for f in fields]
        sql = "INSERT INTO audit_auditevent (" + columns + ") VALUES (" + placeholders + ")"  # noqa: S608 (columns from the model)
        _insert_cache[vendor] = (plan, sql)
    return _insert_cache[vendor]


def insert_event(values: dict):
    """Insert one event row with plain SQL and return it as a model instance."""
    from .models import AuditEvent

    plan, sql = _insert_statement()
    params = [adapt(values.get(name)) if adapt else values.get(name) for name, adapt in plan]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.lastrowid
    event = AuditEvent(pk=pk, **values)
    event._state.adding = False
    event._state.db = connection.alias
    return event
