"""The database connection pool (hospital.db): connections live on between requests, never shared at once.

Each test runs on a SQLite file and, with -m mariadb on a MariaDB/MySQL DATABASE_URL, on the test
database there too. A "request" here is what Django does in a request thread: connections[alias]
connects on first use and is closed at the end, which hands the connection back to the pool.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from hospital.db.pool import ConnectionPool, PoolKey, close_pools
from hospital.settings.base import MYSQL_ENGINE, SQLITE_ENGINE, database_from_env

ROOT = Path(__file__).resolve().parent.parent
ALIAS = "pooltest"
ENGINES = ["sqlite", pytest.param("mysql", marks=pytest.mark.mariadb)]


class PooledDatabase:
    """A pooled database under the alias "pooltest", configured as database_from_env() does."""

    def __init__(self, vendor: str, settings_dict: dict):
        self.vendor = vendor
        self.settings_dict = settings_dict
        self._baseline: dict[str, int] = {}

    def configure(self, **pool_options) -> None:
        """Change the pool's options (each set of options is a pool of its own)."""
        for conn in connections.all(initialized_only=True):
            if conn.alias == ALIAS:
                conn.close()
        self.pool.clear()
        self.settings_dict["OPTIONS"]["pool"].update(pool_options)
        self.pool.clear()
        self._baseline = self.pool.stats()

    @property
    def pool(self) -> ConnectionPool:
        return connections[ALIAS].connection_pool

    def stats(self) -> dict[str, int]:
        """Idle connections now, and what the pool did since configure() (a pool may outlive a test)."""
        stats = self.pool.stats()
        return {name: value - (self._baseline[name] if name != "idle" else 0) for name, value in stats.items()}

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []

    def count(self) -> int:
        return self.execute("SELECT COUNT(*) FROM pool_probe")[0][0]

    def begin_raw_transaction(self) -> None:
        self.execute("BEGIN" if self.vendor == "sqlite" else "START TRANSACTION")

    def raw_autocommit(self, raw) -> bool:
        if self.vendor == "sqlite":
            return raw.isolation_level is None and not raw.in_transaction
        return raw.get_autocommit()

    def kill(self, raw) -> None:
        """Break a connection the way it breaks in production: closed under the pool, or killed by the server."""
        if self.vendor == "sqlite":
            raw.close()
            return
        killer = copy.deepcopy(self.settings_dict)
        killer["OPTIONS"]["pool"] = None
        other = connections[ALIAS].__class__(killer, "killer")
        try:
            with other.cursor() as cursor:
                cursor.execute(f"KILL {int(raw.thread_id())}")
        finally:
            other.close()
        time.sleep(0.1)  # the server closes the socket asynchronously


def complete(config: dict) -> dict:
    """A database's settings with Django's defaults filled in, as in settings.DATABASES."""
    return ConnectionHandler({"default": config}).settings["default"]


def in_thread(fn: Callable, *args):
    """Run fn in a new thread, as Django runs each ASGI request; its connections are closed at the end."""
    result, errors = [], []

    def run():
        try:
            result.append(fn(*args))
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if errors:
        raise errors[0]
    return result[0]


def request(db: PooledDatabase) -> object:
    """A request's use of the database; returns the raw connection it was given."""
    db.execute("SELECT 1")
    return connections[ALIAS].connection


@pytest.fixture(params=ENGINES)
def db(request, tmp_path, monkeypatch, django_db_blocker):
    if request.param == "sqlite":
        monkeypatch.setenv("POOL_TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'pool.sqlite3'}")
        config = database_from_env("", var="POOL_TEST_DATABASE_URL")
    else:
        request.getfixturevalue("django_db_setup")
        if connections["default"].vendor != "mysql":
            pytest.fail("The MariaDB pool tests need DATABASE_URL on MariaDB/MySQL; run them with -m mariadb there.")
        config = copy.deepcopy(connections["default"].settings_dict)  # the test database
        config["OPTIONS"]["pool"] = {**config["OPTIONS"]["pool"], "size": 3}  # a pool of its own
    settings_dict = complete(config)
    connections.settings[ALIAS] = settings_dict
    database = PooledDatabase(request.param, settings_dict)
    with django_db_blocker.unblock():
        database.execute("CREATE TABLE pool_probe (note VARCHAR(20))")
        connections[ALIAS].close()
        database.configure()
        try:
            yield database
        finally:
            connections.close_all()
            database.execute("DROP TABLE pool_probe")
            connections[ALIAS].close()
            database.pool.clear()
            del connections[ALIAS]
            del connections.settings[ALIAS]


def test_a_request_thread_gets_the_connection_an_earlier_request_gave_back(db):
    first = in_thread(request, db)
    second = in_thread(request, db)
    assert second is first
    assert db.stats() == {"idle": 1, "opened": 1, "reused": 1, "discarded": 0}


def test_a_connection_given_back_in_a_transaction_is_rolled_back_and_in_autocommit_again(db):
    def write_without_commit(how: str):
        conn = connections[ALIAS]
        if how == "django":
            conn.set_autocommit(False)
        else:
            db.begin_raw_transaction()  # a transaction Django does not know about
        db.execute("INSERT INTO pool_probe (note) VALUES ('uncommitted')")
        return conn.connection

    def next_request():
        return connections[ALIAS].get_autocommit(), db.count(), request(db)

    for how in ("django", "raw"):
        raw = in_thread(write_without_commit, how)
        autocommit, rows, reused = in_thread(next_request)
        assert reused is raw
        assert (autocommit, rows, db.raw_autocommit(raw)) == (True, 0, True)


def test_a_connection_closed_inside_an_atomic_block_is_closed_for_good(db):
    def close_mid_transaction():
        conn = connections[ALIAS]
        with transaction.atomic(using=ALIAS):
            db.execute("INSERT INTO pool_probe (note) VALUES ('uncommitted')")
            raw = conn.connection
            conn.close()  # Django still refers to it until the block ends: it must not be handed on
        return raw

    raw = in_thread(close_mid_transaction)
    assert in_thread(request, db) is not raw
    assert in_thread(db.count) == 0
    assert db.stats()["discarded"] == 1


def test_the_pool_keeps_at_most_size_idle_connections(db):
    db.configure(size=2)
    barrier = threading.Barrier(5)

    def busy_request():
        raw = request(db)
        barrier.wait(timeout=30)  # all five hold a connection at once
        return raw

    def burst() -> set[int]:
        raws = []
        threads = [threading.Thread(target=lambda: raws.append(in_thread(busy_request))) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(raws) == 5
        return raws

    first = burst()
    assert db.stats() == {"idle": 2, "opened": 5, "reused": 0, "discarded": 3}
    second = burst()
    assert db.stats() == {"idle": 2, "opened": 8, "reused": 2, "discarded": 6}
    assert len({id(raw) for raw in first + second}) == 8


def test_a_dead_idle_connection_is_never_handed_out(db):
    db.configure(ping_after=0)  # check every connection before handing it out
    raw = in_thread(request, db)
    db.kill(raw)
    fresh = in_thread(request, db)
    assert fresh is not raw
    assert db.stats()["discarded"] == 1


def test_a_connection_idle_longer_than_ping_after_is_checked_first(db):
    db.configure(ping_after=0.2)
    raw = in_thread(request, db)
    db.kill(raw)
    time.sleep(0.3)
    assert in_thread(request, db) is not raw
    assert db.stats()["discarded"] == 1


def test_a_connection_that_failed_in_a_request_is_not_given_back_when_dead(db):
    def fail_mid_request():
        raw = request(db)
        db.kill(raw)
        with pytest.raises(Exception):  # noqa: B017 (the driver's own error, wrapped by Django)
            db.execute("SELECT 1")
        return raw

    raw = in_thread(fail_mid_request)
    assert db.stats()["idle"] == 0
    assert in_thread(request, db) is not raw


def test_connections_too_old_or_idle_too_long_are_closed(db):
    db.configure(max_age=0.3)
    raw = in_thread(request, db)
    assert in_thread(request, db) is raw
    time.sleep(0.35)
    assert in_thread(request, db) is not raw

    db.configure(max_age=1800, max_idle=0.2)
    raw = in_thread(request, db)
    time.sleep(0.25)
    assert in_thread(request, db) is not raw
    assert db.stats()["discarded"] == 1


def test_threads_hammering_the_pool_never_share_a_connection(db):
    db.configure(size=3)
    in_use: set[int] = set()
    seen = []  # keeps every raw connection alive, so two can never share an id()
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def hammer():
        barrier.wait(timeout=30)
        for i in range(40):
            conn = connections[ALIAS]
            conn.ensure_connection()
            raw = conn.connection
            with lock:
                assert id(raw) not in in_use, "two threads hold one connection"
                in_use.add(id(raw))
                seen.append(raw)
            db.execute("SELECT COUNT(*) FROM pool_probe")
            if i % 5 == 0:
                with transaction.atomic(using=ALIAS):
                    db.execute("INSERT INTO pool_probe (note) VALUES ('hammer')")
            with lock:
                in_use.remove(id(raw))
            conn.close()

    threads = []
    errors = []

    def guarded():
        try:
            in_thread(hammer)
        except BaseException as exc:
            errors.append(exc)

    for _ in range(8):
        threads.append(threading.Thread(target=guarded))
        threads[-1].start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    stats = db.stats()
    assert stats["opened"] + stats["reused"] == 8 * 40
    assert stats["reused"] > 0
    assert stats["idle"] <= 3
    assert in_thread(db.count) == 8 * 8


def test_a_forked_child_neither_uses_nor_closes_its_parents_connections(db):
    db.execute("SELECT 1")
    held = connections[ALIAS].connection  # in use by this thread
    idle = in_thread(request, db)  # in the pool
    assert idle is not held and db.stats()["idle"] == 1
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 1
        try:
            connections[ALIAS].close()  # the parent's connection: forgotten, not rolled back or closed
            fresh = request(db)
            code = 0 if fresh is not idle and fresh is not held and db.stats()["idle"] == 0 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert db.execute("SELECT 1") == [(1,)]  # the parent's sessions are still open on the server
    connections[ALIAS].close()
    assert in_thread(request, db) in (idle, held)


def test_a_database_under_another_name_never_gets_this_pools_connections(tmp_path, monkeypatch, django_db_blocker):
    def settings_for(name: str) -> dict:
        monkeypatch.setenv("POOL_TEST_DATABASE_URL", f"sqlite:///{tmp_path / name}")
        return complete(database_from_env("", var="POOL_TEST_DATABASE_URL"))

    first, second = settings_for("first.sqlite3"), settings_for("second.sqlite3")
    key = PoolKey.for_settings("sqlite", first)
    assert key == PoolKey.for_settings("sqlite", copy.deepcopy(first))
    assert key != PoolKey.for_settings("sqlite", second)
    assert key != PoolKey.for_settings("sqlite", {**first, "PASSWORD": "s3cr3t-Pa55"})
    assert "s3cr3t-Pa55" not in repr(PoolKey.for_settings("sqlite", {**first, "PASSWORD": "s3cr3t-Pa55"}))

    def use(settings_dict):
        from django.db.utils import load_backend

        wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(copy.deepcopy(settings_dict), "x")
        with wrapper.cursor() as cursor:
            cursor.execute("PRAGMA database_list")
            path = cursor.fetchone()[2]
        raw = wrapper.connection
        wrapper.close()
        return raw, path

    with django_db_blocker.unblock():
        raw_first, path_first = in_thread(use, first)
        raw_second, path_second = in_thread(use, second)
        assert raw_second is not raw_first
        assert (Path(path_first).name, Path(path_second).name) == ("first.sqlite3", "second.sqlite3")
        assert in_thread(use, first)[0] is raw_first
        close_pools(name=first["NAME"])
        close_pools(name=second["NAME"])


def test_dropping_a_test_database_closes_its_pooled_connections_first(db):
    raw = in_thread(request, db)
    assert db.stats()["idle"] == 1
    close_pools(name=db.settings_dict["NAME"])  # what the test database creation does before it drops
    assert db.stats()["idle"] == 0
    assert in_thread(request, db) is not raw

    def held_during_clear():
        held = request(db)
        close_pools(name=db.settings_dict["NAME"])
        return held

    held = in_thread(held_during_clear)
    assert db.stats()["idle"] == 0  # given back after the clear: closed, not pooled
    assert in_thread(request, db) is not held


@pytest.mark.mariadb
@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_transaction_given_back_to_the_pool_does_not_block_drop_database(db):
    """pytest-django drops the test database at the end: a lock held by a pooled connection would hang it."""
    from django.db.backends.base.base import NO_DB_ALIAS

    name = f"{db.settings_dict['NAME']}_drop"

    def server(sql: str) -> float:
        """Run sql with no database selected (as database creation does); returns the seconds it took."""
        nodb = connections[ALIAS].__class__({**db.settings_dict, "NAME": None}, NO_DB_ALIAS)
        try:
            with nodb.cursor() as cursor:
                cursor.execute("SET SESSION lock_wait_timeout = 5")  # a wait fails instead of hanging the run
                start = time.monotonic()
                cursor.execute(sql)
                return time.monotonic() - start
        finally:
            nodb.close()

    server(f"DROP DATABASE IF EXISTS `{name}`")
    server(f"CREATE DATABASE `{name}`")
    original = db.settings_dict["NAME"]
    db.settings_dict["NAME"] = name
    try:
        db.execute("CREATE TABLE locked (x INTEGER) ENGINE=InnoDB")
        connections[ALIAS].close()

        def leave_a_transaction_open():
            connections[ALIAS].set_autocommit(False)
            db.execute("INSERT INTO locked (x) VALUES (1)")  # holds a metadata lock until rolled back

        in_thread(leave_a_transaction_open)
        assert db.stats()["idle"] == 1  # pooled, not closed
        assert server(f"DROP DATABASE `{name}`") < 3
    finally:
        db.settings_dict["NAME"] = original
        close_pools(name=name)
        server(f"DROP DATABASE IF EXISTS `{name}`")


def test_pooling_is_off_with_size_zero_and_for_in_memory_databases(monkeypatch, django_db_blocker):
    from django.db.utils import load_backend

    monkeypatch.setenv("DATABASE_POOL_SIZE", "0")
    monkeypatch.setenv("POOL_TEST_DATABASE_URL", "sqlite:///:memory:")
    off = complete(database_from_env("", var="POOL_TEST_DATABASE_URL"))
    assert off["ENGINE"] == SQLITE_ENGINE
    assert load_backend(off["ENGINE"]).DatabaseWrapper(off, "x").connection_pool is None
    monkeypatch.delenv("DATABASE_POOL_SIZE")
    in_memory = complete(database_from_env("", var="POOL_TEST_DATABASE_URL"))
    assert in_memory["OPTIONS"]["pool"]["size"] > 0
    assert load_backend(in_memory["ENGINE"]).DatabaseWrapper(in_memory, "x").connection_pool is None


def test_settings_point_both_engines_at_the_pooled_backends(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("POOL_TEST_DATABASE_URL", "mysql://app:secret@db.example.org:3306/hospital")
    mysql = database_from_env("", var="POOL_TEST_DATABASE_URL")
    assert mysql["ENGINE"] == MYSQL_ENGINE
    assert mysql["OPTIONS"]["pool"] == {"size": 4, "max_age": 1800.0, "max_idle": 300.0}
    assert mysql["CONN_MAX_AGE"] == 0
    monkeypatch.setenv("POOL_TEST_DATABASE_URL", "sqlite:///var/x.sqlite3")
    assert database_from_env("", var="POOL_TEST_DATABASE_URL")["ENGINE"] == SQLITE_ENGINE

    # Persistent per-thread connections and a per-process pool do not mix.
    monkeypatch.setenv("CONN_MAX_AGE", "60")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_SIZE=0"):
        database_from_env("", var="POOL_TEST_DATABASE_URL")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "0")
    assert database_from_env("", var="POOL_TEST_DATABASE_URL")["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize("bad", [{"size": -1}, {"sizes": 3}, "ten"])
def test_bad_pool_options_fail_loudly(bad, tmp_path):
    from django.db.utils import load_backend

    settings_dict = complete({"ENGINE": SQLITE_ENGINE, "NAME": str(tmp_path / "x.sqlite3"), "OPTIONS": {"pool": bad}})
    with pytest.raises(ImproperlyConfigured):
        load_backend(SQLITE_ENGINE).DatabaseWrapper(settings_dict, "x").connection_pool  # noqa: B018


@pytest.mark.mariadb
@pytest.mark.parametrize("db", ["mysql"], indirect=True)
def test_a_new_mysql_connection_sends_no_statement_after_connecting(db, monkeypatch):
    """The collation, sql_mode and Django's session settings all travel in the one init command."""
    from hospital.db.backends.mysql.base import Connection

    sent = []
    original = Connection.query
    monkeypatch.setattr(Connection, "query", lambda self, sql: sent.append(sql) or original(self, sql))
    connections[ALIAS].ensure_connection()
    assert sent == []
    rows = db.execute(
        "SELECT @@collation_connection, @@character_set_client, @@sql_mode, @@sql_auto_is_null, @@autocommit"
    )
    assert rows == [("utf8mb4_unicode_ci", "utf8mb4", "STRICT_TRANS_TABLES", 0, 1)]
    isolation = db.execute("SHOW SESSION VARIABLES WHERE Variable_name IN ('tx_isolation', 'transaction_isolation')")
    assert {value for _, value in isolation} == {"READ-COMMITTED"}
    assert db.execute("SELECT %s", ("é ✓ 🛏",)) == [("é ✓ 🛏",)]


def test_requests_through_the_asgi_application_share_one_connection(tmp_path):
    """Two (then three) requests through hospital.asgi: Django connects for each, the pool opens one."""
    out = subprocess.run(
        [sys.executable, "-m", "tests.asgi_pool_probe", str(tmp_path / "asgi.sqlite3"), "/readyz", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 200]
    assert result["connects"] == 3  # Django connected in each request...
    assert result["distinct_connections"] == 1  # ...and got the same connection each time
    assert result["pool"]["opened"] == 1  # (the one migrate used)


@pytest.mark.mariadb
@pytest.mark.django_db(transaction=True)
def test_signed_in_api_requests_through_asgi_reuse_the_connection_and_send_only_their_queries(
    make_user, enrol_totp, monkeypatch
):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.backends.signals import connection_created
    from django.utils import timezone

    from accounts.roles import Role
    from accounts.services.sessions import AUTH_AT_KEY, LAST_SEEN_KEY
    from hospital.asgi import application
    from hospital.db.backends.mysql.base import Connection
    from tests.asgi_pool_probe import get

    if connections["default"].vendor != "mysql":
        pytest.fail("This test needs DATABASE_URL on MariaDB/MySQL; run it with -m mariadb there.")
    user = make_user(Role.EMERGENCY_COORDINATOR)
    device = enrol_totp(user)
    store = SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "accounts.backends.UsernameOrEmailBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "otp_device_id": device.persistent_id,
            AUTH_AT_KEY: timezone.now().isoformat(),
            LAST_SEEN_KEY: timezone.now().isoformat(),
        }
    )
    store.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"

    used, sent = [], []
    original = Connection.query
    monkeypatch.setattr(Connection, "query", lambda self, sql: sent.append(sql) or original(self, sql))

    def record(sender, connection, **kwargs):
        if connection.alias == "default":
            used.append(connection.connection)

    connection_created.connect(record, weak=False)
    try:
        statuses = []
        for _ in range(3):
            sent.clear()
            statuses.append(asyncio.run(get(application, "/api/v1/availability/", cookie=cookie)))
    finally:
        connection_created.disconnect(record)
    assert statuses == [200, 200, 200]
    assert len(used) == 3 and used[1] is used[0] and used[2] is used[0]
    # The last request: the application's own queries only, no session set-up or server version query.
    assert 0 < len(sent) <= 5
    assert not [sql for sql in sent if b"@@" in sql or sql.upper().startswith(b"SET ")]
