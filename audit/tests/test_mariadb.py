"""Audit guarantees that only a real MariaDB/MySQL server can prove (selected with -m mariadb)."""

import logging
import secrets
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from accounts.models import Hospital
from audit.chain import seal_pending
from audit.models import AuditEvent
from audit.services import audit_event_record
from audit.verify import verify_chain
from hospital import context

pytestmark = [pytest.mark.mariadb, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_mariadb():
    if connection.vendor != "mysql":
        pytest.fail("These tests need DATABASE_URL on MariaDB/MySQL; run them with -m mariadb there.")


def test_twenty_threads_writing_at_once_keep_one_unforked_chain(settings, caplog):
    # Every commit also tries to seal (no rate limit), so sealers race one another as well.
    settings.AUDIT_SEAL_INTERVAL = 0
    # A table of sealed history, as in production: with few unsealed rows among many, the optimizer
    # would rather find them through the `seq` index, which is what once made sealers deadlock writers.
    with context.bind(context.RequestContext(username="history", origin="test")), transaction.atomic():
        for i in range(3000):
            audit_event_record(action="view", category="diagnosis", patient_id=i % 50, object_label=f"history {i}")
    seal_pending()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE audit_auditevent")
    threads_n, writes_each = 20, 5
    barrier = threading.Barrier(threads_n)
    errors = []

    def worker(n: int) -> None:
        try:
            with context.bind(context.RequestContext(username=f"thread-{n}", origin="test")):
                barrier.wait(timeout=30)
                for i in range(writes_each):
                    with transaction.atomic():
                        Hospital.objects.create(code=f"T{n:02d}-{i}", name=f"Thread {n} hospital {i}", region="R")
        except Exception as exc:  # reported below with the thread number
            errors.append((n, repr(exc)))
        finally:
            connections.close_all()

    before = AuditEvent.objects.count()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    # Sealing after commit is robust (a failure is logged, never raised): a deadlock there shows only here.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert Hospital.objects.filter(code__startswith="T").count() == threads_n * writes_each
    created = AuditEvent.objects.filter(action="create", object_label__startswith="hospital T")
    assert created.count() == threads_n * writes_each, "exactly one row per write"
    assert AuditEvent.objects.count() == before + threads_n * writes_each
    assert AuditEvent.objects.filter(seq__isnull=False).count() > before, "commits sealed on the way"
    report = verify_chain()
    assert report.ok, report.problem
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert None not in seqs and seqs == list(range(1, len(seqs) + 1))


def test_granted_application_user_cannot_change_or_delete_audit_rows(capsys, settings):
    import MySQLdb  # the mysql extra; imported here so collecting on SQLite needs no driver

    settings.AUDIT_SEAL_INTERVAL = 3600  # nothing sealed after commit: this test seals by hand
    with context.bind(context.RequestContext(username="grants-test", origin="test")):
        Hospital.objects.create(code="GRT", name="Grant test", region="R")
        seal_pending()
        Hospital.objects.create(code="GRU", name="Grant test, unsealed", region="R")
    assert AuditEvent.objects.filter(seq__isnull=True).exists()
    settings_dict = connection.settings_dict
    host = settings_dict["HOST"] or "localhost"
    account_host = "localhost" if host in ("localhost", "") else host
    user, password = f"audit_probe_{secrets.token_hex(3)}", secrets.token_urlsafe(18)
    with connection.cursor() as cursor:
        cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s", [user, account_host, password])
    try:
        call_command("audit_db_grants", user=user, host=account_host, database=settings_dict["NAME"])
        statements = [s for s in capsys.readouterr().out.split(";\n") if s.strip() and not s.startswith("--")]
        with connection.cursor() as cursor:
            for statement in statements:
                lines = [line for line in statement.splitlines() if not line.startswith("--")]
                if lines:
                    cursor.execute("\n".join(lines).rstrip(";"))
        probe = MySQLdb.connect(
            host=host,
            port=int(settings_dict["PORT"] or 3306),
            user=user,
            password=password,
            database=settings_dict["NAME"],
            autocommit=True,
        )
        try:
            cur = probe.cursor()
            cur.execute("SELECT COUNT(*) FROM audit_auditevent")
            assert cur.fetchone()[0] >= 1
            cur.execute("SELECT COUNT(*) FROM accounts_hospital")  # the rest of the schema stays usable
            with pytest.raises(MySQLdb.OperationalError) as denied_update:
                cur.execute("UPDATE audit_auditevent SET reason = 'edited'")
            assert denied_update.value.args[0] == 1143  # column command denied: content never changes
            with pytest.raises(MySQLdb.OperationalError) as denied_delete:
                cur.execute("DELETE FROM audit_auditevent")
            assert denied_delete.value.args[0] == 1142
            # A sealed event cannot be re-chained, by this account or any other (the trigger).
            cur.execute("SELECT id FROM audit_auditevent WHERE seq IS NOT NULL ORDER BY id LIMIT 1")
            sealed_id = cur.fetchone()[0]
            with pytest.raises(MySQLdb.OperationalError) as resealed:
                cur.execute("UPDATE audit_auditevent SET hash = REPEAT('f', 64) WHERE id = %s", [sealed_id])
            assert resealed.value.args[0] == 1644 and "sealed" in resealed.value.args[1]
        finally:
            probe.close()
        # The application's sealer, running as that account, links the unsealed events.
        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict.update(USER=user, PASSWORD=password)
        try:
            assert seal_pending() >= 1
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_sealed")
            cursor.execute("DROP USER %s@%s", [user, account_host])
    assert not AuditEvent.objects.filter(seq__isnull=True).exists()
    assert verify_chain().ok


def test_the_sealer_never_waits_for_a_writer_still_in_its_transaction():
    """A writer's event not yet committed is none of the sealer's business: sealing the committed ones
    must not touch (lock) it, or writers waiting on the sealer's index locks deadlock with it."""
    with context.bind(context.RequestContext(username="committed", origin="test")):
        for i in range(5):
            audit_event_record(action="view", category="diagnosis", object_label=f"committed {i}")
    pending = AuditEvent.objects.filter(seq__isnull=True).count()  # some may be sealed after their commit
    assert pending >= 1
    inserted, release, failures = threading.Event(), threading.Event(), []

    def writer() -> None:
        try:
            with context.bind(context.RequestContext(username="slow-writer", origin="test")), transaction.atomic():
                audit_event_record(action="view", category="diagnosis", object_label="uncommitted")
                inserted.set()
                release.wait(timeout=30)
        except Exception as exc:  # reported below
            failures.append(repr(exc))
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inserted.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 2")  # a wait fails fast instead of hanging
        try:
            sealed = seal_pending()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION innodb_lock_wait_timeout = DEFAULT")
        assert sealed == pending
        assert not AuditEvent.objects.filter(object_label="uncommitted").exists()  # not visible, not sealed
    finally:
        release.set()
        thread.join(timeout=30)
    assert failures == []
    assert seal_pending() == 1  # the writer's event, once committed
    assert verify_chain().ok


class TestTheInsertRidesWithTheNextStatement:
    """On MariaDB/MySQL an event's INSERT is sent with its connection's next statement (usually the
    COMMIT): same transaction, same order, no round trip of its own."""

    def test_an_audited_write_costs_no_round_trip_more_than_the_plain_write(self, monkeypatch):
        from audit import chain, receivers
        from hospital.db.backends.mysql.base import Connection

        monkeypatch.setattr(chain, "seal_soon", lambda: None)  # sealing is counted elsewhere
        hospital = Hospital.objects.create(code="RT1", name="Round trips", region="R")
        sent = []
        query, commit = Connection.query, Connection.commit
        monkeypatch.setattr(Connection, "query", lambda self, sql: sent.append(sql) or query(self, sql))
        monkeypatch.setattr(Connection, "commit", lambda self: sent.append(b"<commit>") or commit(self))

        def rename(name: str) -> list:
            sent.clear()
            with transaction.atomic():
                hospital.name = name
                hospital.save()
            return list(sent)

        audited = rename("Round trips, audited")
        uid = "audit.accounts.hospital"
        from django.db.models.signals import post_save, pre_save

        pre_save.disconnect(sender=Hospital, dispatch_uid=f"{uid}.pre_save")
        post_save.disconnect(sender=Hospital, dispatch_uid=f"{uid}.post_save")
        try:
            plain = rename("Round trips, plain")
        finally:
            receivers.connect_model(Hospital)
        assert len(audited) == len(plain) == 2, (audited, plain)
        assert audited[-1].startswith(b"INSERT INTO audit_auditevent") and audited[-1].endswith(b"; COMMIT")
        assert plain[-1] == b"<commit>"
        rows = AuditEvent.objects.filter(object_id=str(hospital.pk), action="update")
        assert [r.changes["name"]["new"] for r in rows] == ["Round trips, audited"]

    def test_the_transaction_sees_its_event_and_a_rollback_takes_it_away(self):
        with transaction.atomic():
            event = audit_event_record(action="view", category="security", object_label="queued")
            assert event.pk is None  # not sent yet
            row = AuditEvent.objects.get(object_label="queued")  # the next statement carries the INSERT
            assert event.pk == row.pk
            try:
                with transaction.atomic():
                    audit_event_record(action="view", category="security", object_label="inner")
                    raise RuntimeError("undo the savepoint")
            except RuntimeError:
                pass
            audit_event_record(action="view", category="security", object_label="after the savepoint")
        with pytest.raises(RuntimeError), transaction.atomic():
            Hospital.objects.create(code="RB1", name="Rolled back", region="R")
            audit_event_record(action="view", category="security", object_label="rolled back")
            raise RuntimeError("undo the transaction")
        labels = set(AuditEvent.objects.values_list("object_label", flat=True))
        assert {"queued", "after the savepoint"} <= labels
        assert not labels & {"inner", "rolled back", "hospital RB1 Rolled back"}
        assert not Hospital.objects.filter(code="RB1").exists()
        assert verify_chain().ok

    def test_a_queued_insert_that_fails_fails_the_commit_and_the_change_rolls_back(self):
        from django.db import IntegrityError
        from django.utils import timezone

        from audit import chain

        before = AuditEvent.objects.count()
        with pytest.raises(IntegrityError), transaction.atomic():
            Hospital.objects.create(code="FX1", name="Never committed", region="R")
            chain.insert_event({"action": None, "category": "account", "occurred_at": timezone.now()})  # NOT NULL
        assert not Hospital.objects.filter(code="FX1").exists()
        assert AuditEvent.objects.count() == before
        with transaction.atomic():  # the connection is usable afterwards
            Hospital.objects.create(code="FX2", name="Committed", region="R")
        assert AuditEvent.objects.filter(action="create", object_label__contains="FX2").count() == 1


def test_event_changes_are_text_without_a_json_check_and_read_back_as_json():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'audit_auditevent' AND COLUMN_NAME = 'changes'"
        )
        assert cursor.fetchone()[0].lower() == "longtext"
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS"
            " WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'audit_auditevent'"
        )
        assert cursor.fetchone()[0] == 0
    changes = {"name": {"old": "Général", "new": "Général — Nord"}, "ids": {"added": ["1", "2"]}}
    audit_event_record(action="update", category="account", object_label="json back", changes=changes)
    assert AuditEvent.objects.get(object_label="json back").changes == changes
    assert verify_chain().ok


class TestSealsAreWrittenByPrimaryKeyOnly:
    """The sealer's UPDATE must reach each event it seals through the primary key and no other row:
    a scan would lock writers' uncommitted events (see audit.chain._write_seals). Two forms: a JSON
    document joined by primary key where the server has JSON_TABLE (MariaDB 10.6+), CASE per column
    elsewhere. Each test runs with the form this server uses and with the CASE form forced."""

    @pytest.fixture(params=["this server's", "case"])
    def form(self, request, monkeypatch):
        from audit import chain

        if request.param == "case":
            monkeypatch.setattr(chain, "_seals_from_json", lambda conn: False)
        return request.param

    def _pending(self, count: int) -> None:
        with context.bind(context.RequestContext(username="seal-form", origin="test")):
            for i in range(count):
                audit_event_record(action="view", category="diagnosis", object_label=f"seal form {i}")

    def test_each_seal_reaches_its_event_by_primary_key(self, form):
        from audit import chain

        self._pending(3)  # a tiny table: where a free optimizer would rather scan it
        ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
        sql, params = chain._seal_statement(connection, [(-pk, "a" * 64, "b" * 64, pk) for pk in ids])
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            names = [column[0] for column in cursor.description]
            plan = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        event = next(step for step in plan if step["table"] in ("event", "audit_auditevent"))
        assert event["key"] == "PRIMARY" and event["type"] in ("eq_ref", "range"), plan
        if chain._seals_from_json(connection):
            assert ([step["table"] for step in plan], event["type"]) == (["seal", "event"], "eq_ref")

    def test_pending_events_are_sealed_into_an_intact_chain(self, form, monkeypatch, settings):
        from audit import chain

        seal_pending()
        settings.AUDIT_SEAL_INTERVAL = 3600  # nothing sealed after commit: this test seals by hand
        monkeypatch.setattr(chain, "_last_seal", time.monotonic())
        self._pending(7)
        assert AuditEvent.objects.filter(seq__isnull=True).count() == 7
        assert seal_pending() == 7
        assert not AuditEvent.objects.filter(seq__isnull=True).exists()
        assert verify_chain().ok

    def test_this_server_uses_the_json_form_where_it_has_json_table(self):
        from audit import chain

        has_json_table = connection.mysql_is_mariadb and connection.mysql_version >= (10, 6)
        assert chain._seals_from_json(connection) is has_json_table
        sql, _ = chain._seal_statement(connection, [(1, "a" * 64, "b" * 64, 1)])
        assert ("JSON_TABLE" in sql) is has_json_table
