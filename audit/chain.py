"""The hash chain: canonical content of an event, its hash, and the serialized append."""

import hashlib
import json
from datetime import UTC, datetime

from django.db import connection

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


def lock_head():
    """Lock and return the chain head; the lock lasts until the surrounding transaction ends."""
    from .models import ChainHead

    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def uses_row_locks() -> bool:
    return connection.features.has_select_for_update
