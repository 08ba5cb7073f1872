"""The event writer's short path to the driver, and the sealer's own reading of pending events."""

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.backends import utils as backend_utils
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from audit import chain
from audit.models import SEQ_INDEX, AuditEvent
from audit.services import audit_event_record
from audit.verify import verify_chain
from tests.factories import HospitalFactory

CONTENT = [name for name in chain.HASHED_FIELDS if name not in ("seq", "prev_hash")]


@pytest.fixture
def django_cursor_calls(monkeypatch):
    """Count statements that go through Django's cursor wrapper."""
    calls = []
    original = backend_utils.CursorWrapper.execute

    def execute(self, sql, params=None):
        calls.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(backend_utils.CursorWrapper, "execute", execute)
    return calls


def _record(**extra):
    return audit_event_record(
        action="update",
        category="account",
        object_label="hospital Ü-1",
        changes={"name": {"old": "Général", "new": "Général — Nord"}, "b": {"a": [1, 2]}},
        reason="a reason",
        **extra,
    )


@pytest.mark.django_db
class TestInsert:
    def test_unwatched_and_watched_inserts_write_the_same_row(self, django_cursor_calls):
        assert not connection.queries_logged and not connection.execute_wrappers
        quick = _record()
        assert not any("audit_auditevent" in sql for sql in django_cursor_calls), (
            "the unwatched INSERT took Django's cursor"
        )
        with CaptureQueriesContext(connection) as watched:
            seen = _record()
        assert [q["sql"] for q in watched.captured_queries if "INSERT INTO audit_auditevent" in q["sql"]]
        rows = {e.pk: e for e in AuditEvent.objects.filter(pk__in=[quick.pk, seen.pk])}
        assert seen.pk > quick.pk
        first, second = rows[quick.pk], rows[seen.pk]
        for name in CONTENT:
            if name in ("occurred_at", "request_id"):
                continue
            assert getattr(first, name) == getattr(second, name), name
        assert first.changes == {"name": {"old": "Général", "new": "Général — Nord"}, "b": {"a": [1, 2]}}
        # What the writer returned is what the database holds.
        assert abs(first.occurred_at - quick.occurred_at) < timedelta(microseconds=1)

    def test_a_refused_insert_raises_djangos_error_and_the_transaction_rolls_back(self):
        before = AuditEvent.objects.count()
        values = {"action": None, "category": "account", "occurred_at": datetime.now(UTC)}  # action is NOT NULL
        with pytest.raises(IntegrityError), transaction.atomic():
            chain.insert_event(values)
        assert AuditEvent.objects.count() == before

    def test_content_types_named_by_events_cannot_be_deleted(self):
        hospital = HospitalFactory()
        assert AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(hospital)).exists()
        with pytest.raises(ProtectedError):
            ContentType.objects.get_for_model(hospital).delete()

    def test_the_event_table_has_no_foreign_key_and_sqlite_ids_are_plain_rowids(self):
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "audit_auditevent")
        assert not [name for name, info in constraints.items() if info["foreign_key"]]
        assert not [name for name, info in constraints.items() if info["columns"] == ["content_type_id"]]
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", ["audit_auditevent"])
                assert "AUTOINCREMENT" not in cursor.fetchone()[0].upper()


@pytest.mark.django_db
class TestSeqIndex:
    def test_seq_is_unique_in_the_database(self):
        chain.seal_pending()
        sealed, unsealed = _record(), _record()
        chain.seal_pending(limit=1)
        sealed = AuditEvent.objects.get(pk=sealed.pk)
        assert sealed.seq is not None
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, "audit_auditevent")
            assert [n for n, info in constraints.items() if info["columns"] == ["seq"] and info["unique"]]
            with pytest.raises(IntegrityError), transaction.atomic():
                cursor.execute("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [sealed.seq, unsealed.pk])

    def test_the_seq_index_holds_only_sealed_rows_on_sqlite_and_every_row_elsewhere(self):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [SEQ_INDEX])
                assert cursor.fetchone()[0].endswith("WHERE seq IS NOT NULL")
            else:
                constraints = connection.introspection.get_constraints(cursor, "audit_auditevent")
                assert constraints[SEQ_INDEX]["unique"] and constraints[SEQ_INDEX]["columns"] == ["seq"]

    def test_the_sealer_finds_new_events_after_sealed_rows_written_out_of_band(self):
        # Rows that arrive already sealed (restored, or a benchmark's bulk load) sit after the last
        # row the sealer sealed: events written after them are still found and sealed.
        chain.seal_pending()
        first = _record()
        chain.seal_pending()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditevent (seq, occurred_at, actor_name, actor_role, action, object_id,"
                " object_label, category, changes, user_agent, request_id, reason, outcome, prev_hash, hash)"
                " VALUES (%s, %s, '', '', 'view', '', '', 'security', '{}', '', '', '', 'success', '', '')",
                [10**9, datetime.now(UTC)],
            )
        later = _record()
        assert chain.seal_pending() == 1
        assert AuditEvent.objects.get(pk=later.pk).seq == AuditEvent.objects.get(pk=first.pk).seq + 1


@pytest.mark.django_db
class TestSealerReading:
    def test_sealed_hashes_match_what_the_orm_reads_back(self):
        chain.seal_pending()
        east = timezone(timedelta(hours=5, minutes=30))
        events = [
            _record(),
            _record(activity_at=datetime(2026, 3, 1, 8, 0, 0, tzinfo=east)),  # no microseconds, not UTC
            _record(activity_at=datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC), patient_id=42),
            audit_event_record(action="view", category="security", object_label="plain", changes=None),
        ]
        assert chain.seal_pending() == len(events)
        for event in AuditEvent.objects.filter(pk__in=[e.pk for e in events]):
            assert event.hash == chain.compute_hash(chain.event_values(event))
        assert verify_chain(seal=False).ok

    def test_sealed_hashes_match_when_the_database_keeps_local_time(self, monkeypatch):
        """A database TIME_ZONE other than UTC: the sealer converts like the ORM (the general path)."""
        from zoneinfo import ZoneInfo

        chain.seal_pending()
        monkeypatch.setitem(connection.__dict__, "timezone_name", "Asia/Kolkata")
        monkeypatch.setitem(connection.__dict__, "timezone", ZoneInfo("Asia/Kolkata"))
        events = [_record(), _record(activity_at=datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC))]
        assert chain.seal_pending() == len(events)
        for event in AuditEvent.objects.filter(pk__in=[e.pk for e in events]):
            assert event.hash == chain.compute_hash(chain.event_values(event))
        assert verify_chain(seal=False).ok

    def test_the_sealer_reads_only_unsealed_events_oldest_first(self):
        chain.seal_pending()
        events = [_record() for _ in range(3)]
        pending = chain._read_pending(connection, 2)
        ids = [event.pk for event in events]  # on MariaDB/MySQL, set once the INSERT went with that read
        assert [pk for pk, _ in pending] == ids[:2]
        assert pending[0][1]["changes"]["name"]["new"] == "Général — Nord"
        assert pending[0][1]["occurred_at"] == chain._canonical_value(AuditEvent.objects.get(pk=ids[0]).occurred_at)


def _reference_canonical(values: dict) -> bytes:
    """The canonical form as the hash chain defines it: the dict, encoded whole by the encoder."""
    data = {name: values.get(name) for name in chain.HASHED_FIELDS}
    for name in ("occurred_at", "activity_at"):
        data[name] = chain._canonical_value(data[name])
    if data["changes"] in (None, ""):
        data["changes"] = {}
    return chain._ENCODER.encode(data).encode()


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"changes": None},
        {"changes": ""},
        {"changes": {"b": {"new": None}, "a": {"old": "x", "new": "y"}, "ids": {"added": ["1", "22"]}}},
        {"changes": {"n": 1.5, "flag": True, "z": [None, {"k": "v"}], "é": "ü"}},
        {"object_label": 'quote " backslash \\ tab \t newline \n nul \x00 bell \x07'},
        {"actor_name": "Zoë 🛏 日本", "reason": "\u2028\u2029 line separators", "user_agent": "</script>"},
        {"activity_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "patient_id": 0, "actor_id": 2**62},
        {"occurred_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))},
        {"seq": None, "prev_hash": "", "ip_address": "2001:db8::1", "outcome": True},
    ],
)
def test_the_canonical_form_is_the_whole_dict_encoded_byte_for_byte(extra):
    values = {
        "seq": 7,
        "occurred_at": "2026-11-23T05:20:10.123456+00:00",
        "actor_id": 3,
        "actor_name": "alice",
        "action": "update",
        "content_type_id": 12,
        "object_id": "41",
        "object_label": "hospital X",
        "category": "account",
        "changes": {"name": {"old": "a", "new": "b"}},
        "outcome": "success",
        "prev_hash": "f" * 64,
        **extra,
    }
    assert chain.canonical(values) == _reference_canonical(values)
    assert chain.compute_hash(values) == hashlib.sha256(_reference_canonical(values)).hexdigest()
