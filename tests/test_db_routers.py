"""Read-replica routing (hospital.db_routers): reads on the replica only when that is safe.

The replica here is the default test database under a second alias: the configured one when
DATABASE_REPLICA_URL is set (a test mirror), else one this module adds. So both aliases see the
same rows, and which one a query went to is told by capturing each connection's queries.
The tests are transactional: in pytest-django's usual test transaction every read is (rightly)
on the primary.
"""

import contextlib
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Hospital, Notification, User
from accounts.roles import Role
from hospital import context
from hospital.db_routers import REPLICA, PrimaryReplicaRouter
from hospital.middleware import StickyPrimaryMiddleware
from tests.factories import HospitalFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ROUTER = "hospital.db_routers.PrimaryReplicaRouter"

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup, django_db_blocker):
    """A "replica" alias on the default test database, for this module's tests."""
    if REPLICA in connections.settings:  # DATABASE_REPLICA_URL: set up as a test mirror already
        yield
        return
    config = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)  # NAME: the test database
    config["TEST"]["MIRROR"] = DEFAULT_DB_ALIAS
    connections.settings[REPLICA] = config
    yield
    for conn in connections.all(initialized_only=True):
        if conn.alias == REPLICA:
            with django_db_blocker.unblock():
                conn.close()
            del connections[REPLICA]
    del connections.settings[REPLICA]


@pytest.fixture(autouse=True)
def routed(settings):
    settings.DATABASE_ROUTERS = [ROUTER]


@contextlib.contextmanager
def request_context():
    """What RequestIdMiddleware binds for a request."""
    with context.bind(context.RequestContext(origin="request")) as ctx:
        yield ctx


@contextlib.contextmanager
def captured():
    """(primary, replica): the queries each alias ran inside the block."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        yield primary, replica


def touching(queries, table: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_reads_go_to_the_replica_outside_transactions():
    hospital = HospitalFactory()
    with request_context(), captured() as (primary, replica):
        names = list(Hospital.objects.values_list("name", flat=True))
    assert names == [hospital.name]  # the replica reads the same (test) database
    assert touching(replica, "accounts_hospital") and not touching(primary, "accounts_hospital")


def test_reads_inside_a_transaction_go_to_the_primary():
    HospitalFactory()
    with request_context():
        with transaction.atomic(), captured() as (primary, replica):
            assert Hospital.objects.count() == 1
        assert touching(primary, "accounts_hospital") and not replica.captured_queries
        # Only a read happened in the block: afterwards, reads are back on the replica.
        with captured() as (primary, replica):
            assert Hospital.objects.count() == 1
        assert touching(replica, "accounts_hospital") and not touching(primary, "accounts_hospital")


def test_reads_after_a_write_in_the_same_context_go_to_the_primary():
    HospitalFactory(name="First")
    with request_context() as ctx:
        assert Hospital.objects.all().db == REPLICA
        HospitalFactory(name="Second")
        assert ctx.db.wrote
        with captured() as (primary, replica):
            assert sorted(Hospital.objects.values_list("name", flat=True)) == ["First", "Second"]
        assert touching(primary, "accounts_hospital") and not replica.captured_queries
    # The next request has not written: replica again.
    with request_context(), captured() as (primary, replica):
        assert Hospital.objects.count() == 2
    assert touching(replica, "accounts_hospital") and not touching(primary, "accounts_hospital")


def test_bookkeeping_writes_leave_reads_on_the_replica():
    """Saving the session (and the audit rows a page view writes) must not send every request to the primary."""
    with request_context() as ctx:
        SessionStore().create()
        assert not ctx.db.wrote
        assert Hospital.objects.all().db == REPLICA


def test_locking_reads_go_to_the_primary():
    with request_context():
        assert Hospital.objects.all().db == REPLICA
        assert Hospital.objects.select_for_update().db == DEFAULT_DB_ALIAS
    HospitalFactory()
    with request_context(), transaction.atomic(), captured() as (primary, replica):
        assert len(Hospital.objects.select_for_update()) == 1
    assert touching(primary, "accounts_hospital") and not replica.captured_queries


@pytest.mark.parametrize(
    "label",
    [
        "accounts.User",
        "accounts.TOTPDevice",
        "accounts.BackupCodeDevice",
        "accounts.AccountLock",
        "accounts.LoginFailure",
        "accounts.UserSession",
        "sessions.Session",
        "auth.Group",
        "auth.Permission",
        "guardian.UserObjectPermission",
        "axes.AccessAttempt",
        "audit.AuditEvent",
        "audit.ChainHead",
        "records.AccessGrant",
        "records.ConsentCode",
    ],
)
def test_security_state_is_read_from_the_primary(label):
    model = apps.get_model(label)
    with request_context():
        assert Hospital.objects.all().db == REPLICA
        assert model.objects.all().db == DEFAULT_DB_ALIAS


def test_user_and_session_loads_hit_the_primary():
    user = UserFactory(role=Role.PATIENT)
    session = SessionStore()
    session.create()
    with request_context(), captured() as (primary, replica):
        assert User.objects.get(pk=user.pk) == user
        assert SessionStore(session.session_key).load() == {}
    assert touching(primary, "accounts_user") and touching(primary, "django_session")
    assert not replica.captured_queries


@pytest.mark.parametrize("origin", ["task:beds.tasks.recount", "command:rotate_keys", "system", None])
def test_tasks_commands_and_unbound_code_read_the_primary(origin):
    """Tasks run right after the commit that queued them; commands read to rewrite; unbound code is untracked."""
    binding = context.bind(context.RequestContext(origin=origin)) if origin else contextlib.nullcontext()
    with binding:
        assert Hospital.objects.all().db == DEFAULT_DB_ALIAS


def test_router_relations_and_migrations():
    r = PrimaryReplicaRouter()
    assert r.allow_migrate(DEFAULT_DB_ALIAS, "accounts", model_name="user") is True
    assert r.allow_migrate(REPLICA, "accounts", model_name="user") is False
    assert router.allow_migrate(REPLICA, "records", model_name="patient") is False
    a, b = Hospital(name="a"), Hospital(name="b")
    a._state.db, b._state.db = DEFAULT_DB_ALIAS, REPLICA
    assert r.allow_relation(a, b) is True
    assert r.db_for_write(Hospital) == DEFAULT_DB_ALIAS


# The browser's way: a POST that writes, then the page it redirects to.


@pytest.fixture
def inbox(client):
    patient = UserFactory(role=Role.PATIENT)
    note = Notification.objects.create(recipient=patient, kind="test.note", subject="Bed 4 is free")
    client.force_login(patient)
    return client, note


def _sticky_cookie() -> str:
    """A cookie value as the middleware signs it (now, or at a patched time)."""
    response, name = HttpResponse(), settings.REPLICA_STICKY_COOKIE_NAME
    response.set_signed_cookie(name, "1", salt=StickyPrimaryMiddleware._SALT)
    return response.cookies[name].value


def _unsign(value: str) -> str:
    request, name = HttpRequest(), settings.REPLICA_STICKY_COOKIE_NAME
    request.COOKIES[name] = value
    return request.get_signed_cookie(name, salt=StickyPrimaryMiddleware._SALT, max_age=settings.REPLICA_STICKY_SECONDS)


def test_the_page_after_a_post_reads_the_primary(inbox):
    client, note = inbox
    page = reverse("accounts:notifications")
    with captured() as (primary, replica):
        assert client.get(page).status_code == 200
    assert touching(replica, "accounts_notification"), "a plain page view reads the inbox from the replica"
    assert settings.REPLICA_STICKY_COOKIE_NAME not in client.cookies  # it wrote nothing

    response = client.post(reverse("accounts:notification_read", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == page
    cookie = response.cookies[settings.REPLICA_STICKY_COOKIE_NAME]
    assert cookie["max-age"] == settings.REPLICA_STICKY_SECONDS == 5
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    # A constant and the signing time: nothing about the user or what they wrote.
    assert _unsign(cookie.value) == "1"

    with captured() as (primary, replica):
        response = client.get(page)
    assert response.status_code == 200
    assert touching(primary, "accounts_notification") and not replica.captured_queries
    note.refresh_from_db()
    assert note.read_at is not None


def test_the_sticky_window_ends_and_cannot_be_forged(inbox, monkeypatch):
    client, _ = inbox
    page = reverse("accounts:notifications")
    name = settings.REPLICA_STICKY_COOKIE_NAME

    client.cookies[name] = _sticky_cookie()
    with captured() as (primary, replica):
        client.get(page)
    assert touching(primary, "accounts_notification") and not replica.captured_queries

    # Signed longer ago than REPLICA_STICKY_SECONDS: over.
    real_timestamp = signing.TimestampSigner.timestamp
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(1e9)))
    client.cookies[name] = _sticky_cookie()
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", real_timestamp)
    for value in (client.cookies[name].value, "1", "1:aaaa:forged"):
        client.cookies[name] = value
        with captured() as (primary, replica):
            client.get(page)
        assert touching(replica, "accounts_notification"), value
        assert not touching(primary, "accounts_notification"), value


def test_without_a_replica_everything_stays_on_the_primary(inbox, monkeypatch):
    client, note = inbox
    HospitalFactory()
    monkeypatch.delitem(connections.settings, REPLICA)
    r = PrimaryReplicaRouter()
    assert r.db_for_read(Hospital) is None and r.db_for_write(Hospital) is None
    assert r.allow_migrate(DEFAULT_DB_ALIAS, "accounts") is None and r.allow_relation(note, note) is None
    with request_context() as ctx:
        assert Hospital.objects.all().db == DEFAULT_DB_ALIAS
        with CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary:
            assert Hospital.objects.count() == 1
        assert touching(primary, "accounts_hospital")
        HospitalFactory()
        assert not ctx.db.wrote
    response = client.post(reverse("accounts:notification_read", args=[note.pk]))
    assert response.status_code == 302
    assert settings.REPLICA_STICKY_COOKIE_NAME not in response.cookies


def _settings_with(**environ) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_REPLICA_URL")}
    env.update(DJANGO_SETTINGS_MODULE="hospital.settings.test", **environ)
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({'databases': s.DATABASES, 'routers': s.DATABASE_ROUTERS}, default=str))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_settings_without_a_replica_url_have_no_replica_and_no_router():
    got = _settings_with(DATABASE_URL="mysql://app:pw@db:3306/hospital")
    assert list(got["databases"]) == ["default"] and got["routers"] == []


def test_settings_parse_the_replica_url_like_the_primary():
    got = _settings_with(
        DATABASE_URL="mysql://app:pw@db:3306/hospital", DATABASE_REPLICA_URL="mysql://reader:pw@db-ro:3306/hospital"
    )
    assert got["routers"] == [ROUTER]
    default, replica = got["databases"]["default"], got["databases"]["replica"]
    assert (replica["HOST"], replica["USER"]) == ("db-ro", "reader")
    assert replica["OPTIONS"] == default["OPTIONS"]  # charset, collation, READ COMMITTED, strict mode
    assert replica["OPTIONS"]["isolation_level"] == "read committed"
    assert replica["TEST"] == {**default["TEST"], "MIRROR": "default"}


def test_a_sqlite_replica_never_takes_the_write_lock():
    got = _settings_with(
        DATABASE_URL="sqlite:///var/primary.sqlite3", DATABASE_REPLICA_URL="sqlite:///var/primary.sqlite3"
    )
    default, replica = got["databases"]["default"], got["databases"]["replica"]
    assert replica["NAME"] == default["NAME"] == str(ROOT / "var" / "primary.sqlite3")
    assert default["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert replica["OPTIONS"]["transaction_mode"] == "DEFERRED"
    assert replica["OPTIONS"]["timeout"] == default["OPTIONS"]["timeout"]
    assert replica["OPTIONS"]["init_command"].startswith(default["OPTIONS"]["init_command"])
