"""Fixtures shared by every test: users per role, an MFA helper, clients signed in."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.models import TOTPDevice
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory


def totp_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def fresh_totp_code(device: TOTPDevice) -> str:
    """A code the device has not accepted yet: as if the test waited for the next time step."""
    device.refresh_from_db()
    now_t = int((time.time() - device.t0) // device.step) + device.drift
    for offset in (0, 1):
        if now_t + offset > device.last_t:
            return totp_code(device, offset_steps=offset)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=now_t - 1)
    return totp_code(device)


_APP_PACKAGES = ("accounts", "audit", "beds", "records", "compliance", "hospital")


def pytest_collection_modifyitems(items):
    """With DATABASE_REPLICA_URL set, a test that may use the database may use the replica too.

    The replica is a test mirror of the default database (the same test database), and the router
    reads from it outside transactions (transactional tests, live servers). pytest-django allows only
    the aliases a test names, so the mirror is added to every test that names the default database.
    """
    from django.db import DEFAULT_DB_ALIAS, connections
    from pytest_django.fixtures import validate_django_db

    mirrors = [alias for alias in connections if connections.settings[alias]["TEST"]["MIRROR"] == DEFAULT_DB_ALIAS]
    if not mirrors:
        return
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None:
            if not {"db", "transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())):
                continue
            marker = pytest.mark.django_db.mark  # the defaults; the fixtures decide transactional
        transaction, reset_sequences, databases, serialized_rollback, available_apps = validate_django_db(marker)
        if databases == "__all__":
            continue
        databases = list(databases or [DEFAULT_DB_ALIAS])
        if DEFAULT_DB_ALIAS not in databases:
            continue
        databases += [alias for alias in mirrors if alias not in databases]
        item.add_marker(
            pytest.mark.django_db(
                transaction=transaction,
                reset_sequences=reset_sequences,
                databases=databases,
                serialized_rollback=serialized_rollback,
                available_apps=available_apps,
            ),
            append=False,
        )


@pytest.fixture(autouse=True, scope="session")
def guard_audited_writes():
    """Fail any update()/bulk_create()/bulk_update() on an audited model made from app code.

    Those calls skip model signals, so the write would leave no audit row. Tests may use them
    to build fixtures; application modules may not.
    """
    import sys

    from django.db.models import QuerySet

    from audit import registry

    originals = {name: getattr(QuerySet, name) for name in ("update", "bulk_create", "bulk_update")}

    def make(name, original):
        def guarded(self, *args, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if (
                registry.config_for(self.model) is not None
                and caller.startswith(_APP_PACKAGES)
                and (".tests" not in caller and ".migrations" not in caller)
            ):
                raise AssertionError(f"{caller} bypasses the audit with {self.model.__name__}.{name}()")
            return original(self, *args, **kwargs)

        guarded.__name__ = "guarded"
        return guarded

    for name, original in originals.items():
        setattr(QuerySet, name, make(name, original))
    yield
    for name, original in originals.items():
        setattr(QuerySet, name, original)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (the board, axes and sessions use it)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db):
    def make(role: Role | str | None = Role.DOCTOR, **kwargs):
        return UserFactory(role=role, **kwargs)

    return make


@pytest.fixture
def doctor(make_user):
    return make_user(Role.DOCTOR, username="dr.house", email="house@example.org")


@pytest.fixture
def patient(make_user):
    return make_user(Role.PATIENT, username="pat.jones", email="pat@example.org")


@pytest.fixture
def enrol_totp(db):
    """Give a user a confirmed authenticator (as if enrolled); returns the device."""

    def enrol(user) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)

    return enrol


@pytest.fixture
def mfa_login(client, enrol_totp):
    """Sign a user in through the real pages: password, then a TOTP code."""

    def login(user, c=None):
        c = c or client
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or enrol_totp(user)
        r = c.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
        assert r.status_code == 302, r.content[:500]
        r = c.post(reverse("accounts:mfa_verify"), {"otp_token": fresh_totp_code(device)})
        assert r.status_code == 302 and "mfa" not in r["Location"], r.content[:500]
        return c

    return login


def clear_otp_throttle(user) -> None:
    """django-otp delays a retry after a wrong code by seconds; tests step over that delay."""
    from accounts.models import BackupCodeDevice

    for model in (TOTPDevice, BackupCodeDevice):
        model.objects.filter(user=user).update(throttling_failure_timestamp=None, throttling_failure_count=0)


@pytest.fixture
def sms_outbox():
    """Text messages sent through the locmem SMS backend (the test settings' default), empty at the start."""
    from accounts import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()
