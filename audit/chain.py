"""The hash chain: canonical content of an event, its hash, and the sealer that links events.

Writers only insert events (one INSERT in their own transaction, no lock shared with other
writers). The sealer takes the chain head's lock, gives every committed, unsealed event the
next `seq`, the previous event's hash and its own hash, and moves the head, in one transaction.
Sealers are serialized on the head row, so the chain never forks; each event is sealed once.
Sealing runs soon after commit (at most every AUDIT_SEAL_INTERVAL seconds per process), every
few seconds from Celery beat, and before the chain is verified or archived.
"""

import hashlib
import json
import threading
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction

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


# The only hashed fields that hold datetimes; every other one is hashed as it is.
_DATETIME_FIELDS = ("occurred_at", "activity_at")
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# The canonical form is the hashed fields as one JSON object, keys sorted, no spaces, UTF-8: what
# _ENCODER.encode() makes of the dict. It is written here field by field, in the sorted order,
# because the sealer hashes every event: text, integers and null directly, anything else (the
# changes) by _ENCODER. The result is the same, byte for byte (tested against _ENCODER).
_KEY_PREFIXES = tuple(
    (name, ("{" if i == 0 else ",") + encode_basestring(name) + ":") for i, name in enumerate(sorted(HASHED_FIELDS))
)


def canonical(values: dict) -> bytes:
    parts = []
    for name, prefix in _KEY_PREFIXES:
        value = values.get(name)
        if name in _DATETIME_FIELDS:
            value = _canonical_value(value)
        elif name == "changes" and value in (None, ""):
            value = {}
        kind = type(value)
        if value is None:
            text = "null"
        elif kind is str:
            text = encode_basestring(value)
        elif kind is int:
            text = int.__repr__(value)
        else:
            text = _ENCODER.encode(value)
        parts.append(prefix)
        parts.append(text)
    parts.append("}")
    return "".join(parts).encode()


def compute_hash(values: dict) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def event_values(event) -> dict:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


# Plain, constant SQL. The table is ChainHead's (audit_chainhead).
_SELECT_HEAD = "SELECT seq, hash FROM audit_chainhead WHERE id = %s"
_SELECT_HEAD_FOR_UPDATE = "SELECT seq, hash FROM audit_chainhead WHERE id = %s FOR UPDATE"
_SELECT_HEAD_SKIP_LOCKED = "SELECT seq, hash FROM audit_chainhead WHERE id = %s FOR UPDATE SKIP LOCKED"
_ADVANCE_HEAD = "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = %s"


def lock_head(*, skip_locked: bool = False) -> tuple[int, str] | None:
    """Lock the chain head and return (seq, hash) of the last sealed event.

    The row lock lasts until the surrounding transaction ends, so sealers never interleave.
    With `skip_locked`, return None at once when another sealer holds it (MariaDB/MySQL).
    On SQLite the IMMEDIATE transaction already holds the database's write lock.
    """
    features = connection.features
    if not features.has_select_for_update:
        sql = _SELECT_HEAD
    elif skip_locked and features.has_select_for_update_skip_locked:
        sql = _SELECT_HEAD_SKIP_LOCKED
    else:
        sql = _SELECT_HEAD_FOR_UPDATE
    with connection.cursor() as cursor:
        cursor.execute(sql, [1])
        row = cursor.fetchone()
        if row is None:
            if _recreate_head():
                cursor.execute(sql, [1])
                row = cursor.fetchone()
            if row is None:
                return None
    return int(row[0]), row[1]


def _recreate_head() -> bool:
    """The head row is gone (a flushed database, or removed by hand): rebuild it from the last sealed event."""
    from .models import AuditEvent, ChainHead

    if ChainHead.objects.filter(pk=1).exists():
        return True  # it exists but another sealer holds it
    last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first() or (
        0,
        GENESIS,
    )
    ChainHead.objects.get_or_create(pk=1, defaults={"seq": last[0], "hash": last[1]})
    return True


def advance_head(seq: int, hash_: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_ADVANCE_HEAD, [seq, hash_, 1])


_insert_cache: dict[str, tuple[list, str, str]] = {}


def _adapter(field, conn):
    """How one event field's value becomes a query parameter: what the ORM does, minus its overhead."""
    ops = conn.ops
    if isinstance(field, models.DateTimeField):
        # Django stores an aware datetime as the naive time in the connection's time zone, as text.
        db_tz = conn.timezone

        def adapt_datetime(value):
            if value is None:
                return None
            if value.tzinfo is not None:
                value = value.astimezone(db_tz).replace(tzinfo=None)
            return str(value)

        return adapt_datetime
    if isinstance(field, models.JSONField):
        return lambda value: ops.adapt_json_value(value, field.encoder)
    if isinstance(field, models.GenericIPAddressField):
        return lambda value: ops.adapt_ipaddressfield_value(value or None)
    return None


def _insert_statement(conn) -> tuple[list, str, str]:
    """(attname, adapter) for each column, and the INSERT for them (with %s placeholders, and as
    the driver itself takes it), built once per database vendor."""
    vendor = conn.vendor
    if vendor not in _insert_cache:
        from .models import AuditEvent

        fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
        columns = ", ".join(conn.ops.quote_name(f.column) for f in fields)
        plan = [(f.attname, _adapter(f, conn)) for f in fields]
        sql = "INSERT INTO audit_auditevent (" + columns + ") VALUES (" + ", ".join(["%s"] * len(fields)) + ")"  # noqa: S608 (columns from the model)
        # sqlite3 takes "?" placeholders; Django rewrites "%s" with a regular expression on every execute.
        native = sql.replace("%s", "?") if vendor == "sqlite" else sql
        _insert_cache[vendor] = (plan, sql, native)
    return _insert_cache[vendor]


def _execute_insert(conn, sql: str, native: str, params: list) -> int:
    """Run the INSERT and return the new id.

    Every audited write pays for this statement, so it goes straight to the driver's cursor unless
    something watches queries (a debug cursor, a test's query counter, an execute wrapper): then it
    takes Django's cursor, and is seen, like any other query. Same statement, same parameters, in
    the caller's transaction either way; driver errors still become Django's exceptions.
    """
    if conn.queries_logged or conn.execute_wrappers or conn.connection is None:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.lastrowid
    conn.validate_no_broken_transaction()
    conn.validate_thread_sharing()
    with conn.wrap_database_errors:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(native, params)
            return cursor.lastrowid
        finally:
            cursor.close()


def insert_event(values: dict, conn=None):
    """Insert one event row with plain SQL and return it as a model instance.

    On MariaDB/MySQL, inside a transaction, the INSERT rides with the connection's next statement
    (usually the COMMIT) instead of taking a round trip of its own (see the project's MySQL
    backend, send_with_next): nothing this connection sends can come before it, so every later
    query of the transaction sees the row, and a rollback drops it with the change it records.
    The instance's id is set when the row is written. Where queries are watched, or on SQLite
    (no round trips to save), the INSERT runs at once.
    """
    from .models import AuditEvent

    conn = conn or connections[DEFAULT_DB_ALIAS]
    plan, sql, native = _insert_statement(conn)
    params = [adapt(values.get(name)) if adapt else values.get(name) for name, adapt in plan]
    # The row as a model instance without Model.__init__ (and its signals): it is only read.
    event = AuditEvent.__new__(AuditEvent)
    event.__dict__.update(values)
    event.id = None
    event._state = models.base.ModelState()
    event._state.adding = False
    event._state.db = conn.alias
    send_with_next = getattr(conn, "send_with_next", None)
    if send_with_next is not None and not (conn.queries_logged or conn.execute_wrappers):
        conn.validate_thread_sharing()

        def written(pk: int) -> None:
            event.id = pk

        if send_with_next(sql, params, written):
            return event
    event.id = _execute_insert(conn, sql, native, params)
    return event


SEAL_BATCH = 500


# What the sealer reads of each pending event: its id and the hashed fields it already has.
_CONTENT_FIELDS = tuple(name for name in HASHED_FIELDS if name not in ("seq", "prev_hash"))
# SQLite: the newest sealed event, read backwards from the end of the table (past the few unsealed
# ones; NOT INDEXED keeps the planner off the seq index, which would visit every sealed row).
_LAST_SEALED_ID = "SELECT id FROM audit_auditevent NOT INDEXED WHERE seq IS NOT NULL ORDER BY id DESC LIMIT 1"
_SEAL_ONE = "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s"


# MariaDB 10.6+: the seals as one JSON document, joined to the events by primary key. The join
# order and the index are fixed: every (id, seq, prev_hash, hash) of the document finds its one event
# through the primary key, so no other row is examined, and none locked, whatever the table's size.
_SEAL_FROM_JSON = (
    "UPDATE JSON_TABLE(%s, '$[*]' COLUMNS (id BIGINT PATH '$[0]', seq BIGINT PATH '$[1]',"
    " prev_hash VARCHAR(64) PATH '$[2]', hash VARCHAR(64) PATH '$[3]')) AS seal"
    " STRAIGHT_JOIN audit_auditevent AS event FORCE INDEX (PRIMARY) ON event.id = seal.id"
    " SET event.seq = seal.seq, event.prev_hash = seal.prev_hash, event.hash = seal.hash"
)


def _seals_from_json(conn) -> bool:
    return conn.vendor == "mysql" and conn.mysql_is_mariadb and conn.mysql_version >= (10, 6)


def _write_seals(rows: list[tuple[int, str, str, int]]) -> int:
    """Set (seq, prev_hash, hash) of each (seq, prev_hash, hash, id).

    Only the rows named by primary key are touched: the sealer holds the chain head, so nobody
    else seals, and every row it read was committed and unsealed. A join the optimizer may order
    as it likes, or a condition on `seq`, would let MariaDB examine (and lock) other rows, among
    them writers' uncommitted events, while writers wait on the sealer's gap lock in the `seq`
    index: a deadlock that kills the writer's transaction. SQLite runs the one-row UPDATE per row in
    a C loop. On MariaDB/MySQL that would be a round trip per row, so one statement sets them all:
    on MariaDB 10.6+ from a JSON document joined by primary key (above), which the server parses
    and applies in about two thirds of the time of the portable form, CASE id WHEN ... per column
    with WHERE id IN (...) (MySQL, older MariaDB). Both forms name the primary key as the only way
    in (tested by their query plans).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.executemany(_SEAL_ONE, rows)
        else:
            cursor.execute(*_seal_statement(connection, rows))
        return cursor.rowcount


def _seal_statement(conn, rows: list[tuple[int, str, str, int]]) -> tuple[str, list]:
    """MariaDB/MySQL: the one UPDATE (and its parameters) that writes the seals of `rows`."""
    if _seals_from_json(conn):
        return _SEAL_FROM_JSON, [json.dumps([[pk, seq, prev, hash_] for seq, prev, hash_, pk in rows])]
    cases = " ".join(["WHEN %s THEN %s"] * len(rows))
    ids = ", ".join(["%s"] * len(rows))
    # FORCE INDEX: on a small table the optimizer would rather scan the whole primary key.
    sql = (
        f"UPDATE audit_auditevent FORCE INDEX (PRIMARY) SET seq = CASE id {cases} END,"  # noqa: S608
        f" prev_hash = CASE id {cases} END, hash = CASE id {cases} END WHERE id IN ({ids})"  # placeholders only
    )
    return sql, (
        [v for seq, _, _, pk in rows for v in (pk, seq)]
        + [v for _, prev, _, pk in rows for v in (pk, prev)]
        + [v for _, _, hash_, pk in rows for v in (pk, hash_)]
        + [pk for *_, pk in rows]
    )


def _read_pending(conn, limit: int) -> list[tuple[int, dict]]:
    """The oldest `limit` unsealed events as (id, hashed content), without the ORM's per-row
    overhead: datetimes already in their canonical form (UTC, ISO 8601 text), JSON parsed.
    verify_audit reads them back through the ORM, so any difference between the two readings would
    show as a broken chain."""
    # HASHED_FIELDS are attnames, so also the column names (content_type_id for the foreign key).
    # MariaDB/MySQL send datetimes as text and the driver would parse each into a datetime, only for
    # it to be written out as text again below: read as text (always 26 characters for DATETIME(6)).
    as_text = conn.vendor == "mysql"
    quoted = {name: conn.ops.quote_name(name) for name in _CONTENT_FIELDS}
    columns = ", ".join(
        f"CAST({quoted[name]} AS CHAR)" if as_text and name in _DATETIME_FIELDS else quoted[name]
        for name in _CONTENT_FIELDS
    )
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            # No index holds the unsealed rows here (see AuditEvent.seq), and none is needed: SQLite
            # runs one writer at a time, so events commit in id order and the sealer seals in id
            # order; every unsealed event comes after the newest sealed one, at the end of the table.
            cursor.execute(_LAST_SEALED_ID)
            row = cursor.fetchone()
            sql = f"SELECT id, {columns} FROM audit_auditevent WHERE id > %s AND seq IS NULL ORDER BY id LIMIT %s"  # noqa: S608
            cursor.execute(sql, [row[0] if row else 0, limit])
        else:
            sql = f"SELECT id, {columns} FROM audit_auditevent WHERE seq IS NULL ORDER BY id LIMIT %s"  # noqa: S608
            cursor.execute(sql, [limit])
        fetched = cursor.fetchall()
    db_tz = conn.timezone
    utc = conn.timezone_name == "UTC"
    rows = []
    for pk, *content in fetched:
        values = dict(zip(_CONTENT_FIELDS, content, strict=True))
        for name in _DATETIME_FIELDS:
            value = values[name]
            if value is None:
                continue
            if utc:
                # Stored as the naive UTC time: its canonical form (below) is written out directly.
                if isinstance(value, str) and len(value) in (19, 26) and value[10] == " ":
                    values[name] = f"{value[:10]}T{value[11:19]}{value[19:] or '.000000'}+00:00"
                    continue
                if isinstance(value, datetime) and value.tzinfo is None:
                    values[name] = value.isoformat(timespec="microseconds") + "+00:00"
                    continue
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=db_tz)
            values[name] = _canonical_value(value)
        if isinstance(values["changes"], str | bytes):
            values["changes"] = json.loads(values["changes"])
        rows.append((pk, values))
    return rows


def seal_pending(*, limit: int | None = None, wait: bool = True) -> int:
    """Seal committed events that have no place in the chain yet, oldest id first. Return how many.

    With wait=False, give up at once when another sealer is at work (it will seal what we would have).
    """
    conn = connections[DEFAULT_DB_ALIAS]
    sealed = 0
    while limit is None or sealed < limit:
        batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        with transaction.atomic():
            head = lock_head(skip_locked=not wait)
            if head is None:
                return sealed
            seq, prev = head
            pending = _read_pending(conn, batch)
            if not pending:
                return sealed
            rows = []
            for pk, values in pending:
                seq += 1
                values["seq"], values["prev_hash"] = seq, prev
                hash_ = compute_hash(values)
                rows.append((seq, prev, hash_, pk))
                prev = hash_
            if _write_seals(rows) != len(rows):
                # A row vanished or changed under us (out-of-band tampering): never fork the chain.
                raise RuntimeError("audit events changed while being sealed; nothing was sealed")
            advance_head(seq, prev)
        sealed += len(pending)
        if len(pending) < batch:
            return sealed
    return sealed


_last_seal = 0.0
_seal_lock = threading.Lock()


def seal_soon() -> None:
    """Called after a transaction that wrote events commits: seal, at most every AUDIT_SEAL_INTERVAL s."""
    global _last_seal
    interval = getattr(settings, "AUDIT_SEAL_INTERVAL", 1.0)
    now = time.monotonic()
    if now - _last_seal < interval or not _seal_lock.acquire(blocking=False):
        return
    try:
        _last_seal = now
        seal_pending(wait=False)
    finally:
        _seal_lock.release()
