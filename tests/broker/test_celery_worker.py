"""Tasks through a real broker to a real Celery worker process.

Selected only by ``pytest -m broker`` (``make test`` leaves them out). They need:

- ``CELERY_BROKER_URL`` pointing at a running Redis or RabbitMQ;
- ``CELERY_RESULT_BACKEND`` for the round-trip test (``redis://...`` or ``rpc://``);
- ``DATABASE_URL`` pointing at a server database (MariaDB/MySQL, PostgreSQL): the worker is
  another process and must reach the test database pytest-django created.

A missing service fails these tests with a message; they never skip.
"""

import contextlib
import email
import email.policy
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import Notification
from accounts.roles import Role
from beds.models import Admission
from hospital.celery import app as celery_app
from hospital.tasks import ping
from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

WORKER_START_TIMEOUT = 30  # seconds until the worker answers a control ping
RESULT_TIMEOUT = 30  # seconds for a task's effect (result, email) to show up
WORKER_STOP_TIMEOUT = 10  # seconds between SIGTERM and SIGKILL

EMAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # written after each message by Django's file backend
_URL_SCHEMES = {"mysql": "mysql", "postgresql": "postgres"}


def _require_broker() -> str:
    broker_url = settings.CELERY_BROKER_URL
    if not broker_url:
        pytest.fail(
            "The broker tests need a real broker: set CELERY_BROKER_URL "
            "(e.g. redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//).",
            pytrace=False,
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.fail("CELERY_TASK_ALWAYS_EAGER is on: tasks would never reach the broker.", pytrace=False)
    return broker_url


def _test_database_url() -> str:
    """URL of the test database pytest-django created, for the worker process."""
    db = connection.settings_dict
    vendor = connection.vendor
    if vendor == "sqlite":
        if connection.creation.is_in_memory_db(db["NAME"]):
            pytest.fail(
                "The broker tests need a database another process can reach; the test database is in-memory "
                "SQLite. Set DATABASE_URL (e.g. mysql://root@127.0.0.1:3306/hospital).",
                pytrace=False,
            )
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    scheme = _URL_SCHEMES.get(vendor)
    if scheme is None:
        pytest.fail(f"The broker tests do not know how to hand a {vendor} database to the worker.", pytrace=False)
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "localhost"
    netloc = (credentials + "@" if credentials else "") + host + (f":{db['PORT']}" if db.get("PORT") else "")
    # Keep any options the suite's own DATABASE_URL carries (?ssl=..., ?charset=...).
    query = urlsplit(os.environ.get("DATABASE_URL", "")).query
    return urlunsplit((scheme, netloc, "/" + quote(db["NAME"], safe=""), query, ""))


@pytest.fixture(scope="module", autouse=True)
def _real_services(django_db_setup):
    """Fail (never skip) when the broker or a shared database is missing."""
    _require_broker()
    _test_database_url()


@dataclass
class Worker:
    process: subprocess.Popen
    name: str
    queue: str
    outbox: Path
    log_path: Path
    sms_outbox: Path

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no worker log: {exc})"

    def fail(self, message: str) -> None:
        state = "running" if self.process.poll() is None else f"exited with {self.process.returncode}"
        pytest.fail(f"{message}\nWorker {self.name} is {state}. Its output:\n{self.log() or '(empty)'}", pytrace=False)

    def messages(self) -> list[email.message.EmailMessage]:
        """Every complete message the worker wrote to the outbox so far."""
        found = []
        for path in sorted(self.outbox.glob("*.log")):
            data = path.read_bytes()
            for chunk in data.split(EMAIL_SEPARATOR)[:-1]:  # the part after the last separator is incomplete
                found.append(email.message_from_bytes(chunk, policy=email.policy.default))
        return found

    def wait_for_email(self, to: str) -> email.message.EmailMessage:
        deadline = time.monotonic() + RESULT_TIMEOUT
        while time.monotonic() < deadline:
            matching = [m for m in self.messages() if to in str(m["To"])]
            if matching:
                assert len(matching) == 1, [str(m["Subject"]) for m in matching]
                return matching[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.fail(f"No email to {to} in {self.outbox} after {RESULT_TIMEOUT} s.")

    def wait_for_sms(self, to: str) -> str:
        """The one text message to `to` the worker wrote (SMS file backend: one file per message)."""
        deadline = time.monotonic() + RESULT_TIMEOUT
        while time.monotonic() < deadline:
            paths = sorted(self.sms_outbox.glob("*.txt")) if self.sms_outbox.exists() else []
            matching = [t for t in (p.read_text() for p in paths) if t.startswith(f"To: {to}\n")]
            if matching:
                assert len(matching) == 1, matching
                return matching[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.fail(f"No text message to {to} in {self.sms_outbox} after {RESULT_TIMEOUT} s.")


def _celery_command() -> list[str]:
    script = Path(sys.executable).with_name("celery")  # .venv/bin/celery next to .venv/bin/python
    return [str(script)] if script.exists() else [sys.executable, "-m", "celery"]


@pytest.fixture(scope="module")
def worker(_real_services, tmp_path_factory):
    """One real worker for this module, on a queue of its own, against the test database."""
    broker_url = _require_broker()
    base = tmp_path_factory.mktemp("celery-worker")
    outbox = base / "outbox"
    outbox.mkdir()
    sms_outbox = base / "sms-outbox"
    log_path = base / "worker.log"
    # A queue of its own: tasks left in the broker by an earlier (crashed) run are not consumed
    # here, and a developer's own worker on the same broker does not take these tasks.
    queue = f"broker-tests-{uuid.uuid4().hex[:12]}"
    name = f"{queue}@pytest"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hospital.settings.test",
        "CELERY_BROKER_URL": broker_url,
        # Tasks the worker queues itself (a booking's fan-out queues the deliveries) go to its queue too.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DATABASE_URL": _test_database_url(),
        # The worker must build tokens and read encrypted fields exactly like this process.
        "SECRET_KEY": settings.SECRET_KEY,
        "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
        "SITE_URL": settings.SITE_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "SMS_BACKEND": "accounts.sms.FileBackend",
        "SMS_FILE_PATH": str(sms_outbox),
    }
    if settings.CELERY_RESULT_BACKEND:
        env["CELERY_RESULT_BACKEND"] = settings.CELERY_RESULT_BACKEND
    else:
        env.pop("CELERY_RESULT_BACKEND", None)
    command = [
        *_celery_command(),
        "-A",
        "hospital",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-l",
        "warning",
        "-Q",
        queue,
        "-n",
        name,
        # No gossip or mingle: nothing to learn from other workers, and start-up is a second faster.
        # (Worker heartbeats stay on: without them a warm shutdown on RabbitMQ takes 5-10 s.)
        "--without-gossip",
        "--without-mingle",
    ]
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    w = Worker(process=process, name=name, queue=queue, outbox=outbox, log_path=log_path, sms_outbox=sms_outbox)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not celery_app.control.ping(destination=[name], timeout=1.0):
            if process.poll() is not None:
                w.fail("The Celery worker exited during start-up.")
            if time.monotonic() > deadline:
                w.fail(f"The Celery worker did not answer a control ping within {WORKER_START_TIMEOUT} s.")
        yield w
    finally:
        celery_app.conf.task_default_queue = previous_queue
        if process.poll() is None:
            process.terminate()  # warm shutdown
            try:
                process.wait(timeout=WORKER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=WORKER_STOP_TIMEOUT)
        # Leave no queue and exchange (RabbitMQ) or binding keys (Redis) behind. Declared first: on Redis, kombu
        # deletes only the bindings the deleting channel knows of.
        with contextlib.suppress(Exception), celery_app.connection_for_write() as conn:
            bound = celery_app.amqp.queues[queue].bind(conn.default_channel)
            bound.declare()
            bound.delete()
            bound.exchange.delete()  # Celery names a direct exchange after the queue


def test_password_reset_email_is_delivered_by_the_worker(client, make_user, worker):
    user = make_user(None, username="reset.me", email="reset.me@example.org")

    r = client.post(reverse("accounts:password_reset"), {"email": "Reset.Me@example.org"})

    assert r.status_code == 302, r.content[:500]
    assert r["Location"] == reverse("accounts:password_reset_done")
    message = worker.wait_for_email(to=user.email)
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "/accounts/password/reset/" in body, body
    # The link the worker built opens the reset form here: same keys, same database.
    match = re.search(r"https?://\S+/accounts/password/reset/\S+/", body)
    assert match, body
    r = client.get(urlsplit(match.group(0)).path)
    assert r.status_code == 302, r.content[:500]
    assert r["Location"].endswith("/set-password/")
    r = client.get(r["Location"])
    assert r.status_code == 200
    assert b'name="new_password1"' in r.content


def test_ping_round_trip_through_the_worker(worker):
    if not settings.CELERY_RESULT_BACKEND:
        pytest.fail(
            "The ping round-trip needs a result backend: set CELERY_RESULT_BACKEND "
            "(e.g. redis://127.0.0.1:6379/1 with Redis, rpc:// with RabbitMQ).",
            pytrace=False,
        )

    result = ping.delay()

    try:
        value = result.get(timeout=RESULT_TIMEOUT)
    except CeleryTimeoutError:
        worker.fail(f"No result for ping within {RESULT_TIMEOUT} s.")
    assert value == "pong"
    # It was this worker (not an eager call, not some other worker on the broker) that ran it.
    stats = celery_app.control.inspect(destination=[worker.name], timeout=5.0).stats() or {}
    assert stats.get(worker.name, {}).get("total", {}).get("hospital.tasks.ping", 0) >= 1, stats


def test_readyz_reports_the_broker_ok(client):
    r = client.get(reverse("readyz"))

    assert r.status_code == 200, r.content
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_readyz_reports_an_unreachable_broker(client, monkeypatch):
    broker = urlsplit(_require_broker())
    userinfo = broker.netloc.rpartition("@")[0]
    unreachable = urlunsplit(broker._replace(netloc=(userinfo + "@" if userinfo else "") + "127.0.0.1:1"))
    connect = celery_app.connection_for_write
    monkeypatch.setattr(celery_app, "connection_for_write", lambda url=None, **kw: connect(unreachable, **kw))

    started = time.monotonic()
    r = client.get(reverse("readyz"))

    assert r.status_code == 503, r.content
    assert r.json()["checks"]["broker"] == "fail"
    assert time.monotonic() - started < 15  # the probe is bounded


def test_a_booking_made_through_the_api_emails_the_ward_and_the_coordinators(make_user, mfa_login, worker):
    # A booking through the REST API (POST /api/v1/admissions/) by a signed-in, MFA-verified
    # coordinator. The test database commits (transaction=True), so the delivery tasks queued on
    # commit travel through the broker to the worker, which sends the email.
    hospital = HospitalFactory(code="BRK")
    ward = WardFactory(hospital=hospital, name="Critical care")
    BedFactory(ward=ward, label="ICU-1", kind="icu")
    BedFactory(ward=ward, label="ICU-2", kind="icu")  # one booking stays under the occupancy alert threshold
    nurse = make_user(Role.NURSE, username="brk.nurse", email="brk.nurse@example.org", hospital=hospital)
    nurse.phone = "+441632960777"
    nurse.save()
    coordinator = make_user(Role.EMERGENCY_COORDINATOR, username="brk.coord", email="brk.coord@example.org")
    make_user(Role.NURSE, username="elsewhere.nurse", email="elsewhere.nurse@example.org")  # another hospital
    patient = PatientFactory(name="Ada Lovelace")

    api = mfa_login(coordinator, Client())
    response = api.post(
        "/api/v1/admissions/",
        {"patient_mrn": patient.mrn, "kind": "icu", "hospital": hospital.pk, "reason": "meningitis"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    admission = Admission.objects.get(pk=response.json()["id"])

    for user in (nurse, coordinator):
        message = worker.wait_for_email(to=user.email)
        assert message["Subject"] == "ICU bed ICU-1 booked at BRK"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert f"Admission {admission.pk} was booked into ICU bed ICU-1 (Critical care, BRK)." in body, body
        assert "Lovelace" not in body and patient.mrn not in body and "meningitis" not in body
    text = worker.wait_for_sms(to=nurse.phone)
    assert "ICU bed ICU-1 booked at BRK" in text and "Lovelace" not in text
    assert not [m for m in worker.messages() if "elsewhere.nurse" in str(m["To"])]
    # The worker records the delivery, so a second delivery of the same notification sends nothing.
    deadline = time.monotonic() + RESULT_TIMEOUT
    while Notification.objects.filter(email_sent_at__isnull=True).exists():
        if time.monotonic() > deadline:
            worker.fail("The worker sent the emails but did not record them.")
        time.sleep(0.2)
    assert Notification.objects.filter(sms_sent_at__isnull=False).count() == 1
