"""The notification inbox: creation and queuing, delivery by email and SMS, retries, pages, API."""

import io
import stat

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import sms
from accounts.models import Notification
from accounts.roles import Role
from accounts.services.notifications import (
    DeliveryFailed,
    notification_create,
    notification_mark_read,
    notifications_mark_all_read,
)
from accounts.tasks import deliver_notification
from audit.models import AuditEvent
from hospital.celery import app as celery_app

PHONE = "+441632960123"


def make(recipients, **kwargs):
    data = {
        "kind": "admission.booked",
        "subject": "ICU bed ICU-3 booked at CGH",
        "body": "Admission 12.",
        "link": "/x/",
    }
    return notification_create(recipients=recipients, **{**data, **kwargs})


class FailingSMSBackend(sms.BaseSMSBackend):
    """A gateway that is down. Its error text carries the number, which must not be recorded."""

    calls = 0

    def send(self, message):
        type(self).calls += 1
        raise ConnectionRefusedError(111, f"gateway refused {message.to}")


class FlakySMSBackend(sms.BaseSMSBackend):
    """Fails the first message, then works."""

    calls = 0

    def send(self, message):
        type(self).calls += 1
        if type(self).calls == 1:
            raise TimeoutError("gateway timed out")
        sms.outbox.append(message)


@pytest.fixture
def eager_retries():
    """Eager tasks that retry in-process (immediately) instead of raising the first Retry."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def nurse(make_user):
    return make_user(Role.NURSE, username="nurse.one", phone=PHONE)


@pytest.mark.django_db
class TestCreate:
    def test_delivery_is_queued_per_recipient_and_runs_only_after_commit(
        self, nurse, doctor, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            rows = make([nurse, doctor, nurse])
            assert mailoutbox == []  # nothing leaves before the commit

        assert len(callbacks) == 2 and len(rows) == 2
        assert sorted(m.to[0] for m in mailoutbox) == sorted([nurse.email, doctor.email])
        assert [m.to for m in sms_outbox] == [PHONE]
        for row in Notification.objects.all():
            assert row.email_sent_at is not None and row.attempts == 1 and row.last_error == ""

    def test_a_rolled_back_write_notifies_nobody(self, nurse, django_capture_on_commit_callbacks, mailoutbox):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            make([nurse])
            raise RuntimeError("the booking failed")
        assert callbacks == [] and mailoutbox == []
        assert not Notification.objects.exists()

    def test_inactive_users_get_nothing(self, make_user, django_capture_on_commit_callbacks):
        gone = make_user(Role.NURSE, username="gone", is_active=False)
        with django_capture_on_commit_callbacks() as callbacks:
            assert make([gone]) == []
        assert callbacks == []

    @pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
    def test_links_stay_on_this_site(self, nurse, link):
        with pytest.raises(ValidationError):
            make([nurse], link=link)

    def test_notifications_are_not_audited(self, nurse):
        before = AuditEvent.objects.count()
        make([nurse])
        notification_mark_read(user=nurse, notification_id=Notification.objects.get().pk)
        assert AuditEvent.objects.count() == before


@pytest.mark.django_db
class TestDelivery:
    def test_email_and_sms_carry_the_text_and_the_link(self, nurse, mailoutbox, sms_outbox, settings):
        (row,) = make([nurse])
        deliver_notification.delay(row.pk)

        (message,) = mailoutbox
        assert message.subject == "ICU bed ICU-3 booked at CGH" and message.to == [nurse.email]
        assert "Admission 12." in message.body and f"{settings.SITE_URL}/x/" in message.body
        (text,) = sms_outbox
        assert text.to == PHONE and text.body == f"ICU bed ICU-3 booked at CGH {settings.SITE_URL}/x/"
        row.refresh_from_db()
        assert row.email_sent_at and row.sms_sent_at and row.attempts == 1

    def test_without_a_phone_only_email_is_sent(self, doctor, mailoutbox, sms_outbox):
        (row,) = make([doctor])
        deliver_notification.delay(row.pk)
        assert len(mailoutbox) == 1 and sms_outbox == []
        row.refresh_from_db()
        assert row.email_sent_at is not None and row.sms_sent_at is None

    def test_delivering_twice_sends_once(self, nurse, mailoutbox, sms_outbox):
        (row,) = make([nurse])
        deliver_notification.delay(row.pk)
        deliver_notification.delay(row.pk)
        assert len(mailoutbox) == 1 and len(sms_outbox) == 1
        row.refresh_from_db()
        assert row.attempts == 1

    def test_a_missing_notification_or_an_inactive_user_sends_nothing(self, nurse, mailoutbox):
        deliver_notification.delay(987654)
        (row,) = make([nurse])
        nurse.is_active = False
        nurse.save()
        deliver_notification.delay(row.pk)
        assert mailoutbox == []

    @override_settings(SMS_BACKEND="accounts.tests.test_notifications.FailingSMSBackend")
    def test_a_failing_sms_gateway_is_retried_then_given_up(self, nurse, mailoutbox, eager_retries):
        FailingSMSBackend.calls = 0
        (row,) = make([nurse])

        result = deliver_notification.apply(args=[row.pk])

        assert result.failed() and isinstance(result.result, DeliveryFailed)
        retries = deliver_notification.max_retries
        assert FailingSMSBackend.calls == retries + 1
        assert len(mailoutbox) == 1  # the email went out at the first attempt and never again
        row.refresh_from_db()
        assert row.attempts == retries + 1
        assert row.email_sent_at is not None and row.sms_sent_at is None
        assert row.last_error == "sms: ConnectionRefusedError [errno 111]"
        assert PHONE not in row.last_error

    @override_settings(SMS_BACKEND="accounts.tests.test_notifications.FlakySMSBackend")
    def test_a_transient_failure_is_retried_and_recovers(self, nurse, mailoutbox, sms_outbox, eager_retries):
        FlakySMSBackend.calls = 0
        (row,) = make([nurse])

        result = deliver_notification.apply(args=[row.pk])

        assert result.successful()
        assert len(mailoutbox) == 1 and len(sms_outbox) == 1
        row.refresh_from_db()
        assert row.attempts == 2 and row.last_error == "" and row.sms_sent_at is not None

    def test_the_task_retries_connection_errors_with_exponential_backoff(self):
        assert issubclass(ConnectionError, deliver_notification.autoretry_for)
        assert DeliveryFailed in deliver_notification.autoretry_for
        assert deliver_notification.retry_backoff and deliver_notification.retry_backoff_max == 600
        assert deliver_notification.max_retries >= 3

    def test_a_mail_server_error_is_recorded_and_retried(self, nurse, monkeypatch, sms_outbox):
        def refuse(*args, **kwargs):
            raise ConnectionResetError(104, "reset by mail.example.org for nurse.one@example.org")

        monkeypatch.setattr("accounts.services.notifications.send_mail", refuse)
        (row,) = make([nurse])
        with pytest.raises(Retry) as info:  # eager and propagating: the first retry surfaces here
            deliver_notification.apply(args=[row.pk])
        assert isinstance(info.value.exc, DeliveryFailed) and info.value.when in (0, 1)  # backoff: 1 s, jittered
        row.refresh_from_db()
        assert row.attempts == 1 and row.last_error == "email: ConnectionResetError [errno 104]"
        assert "example.org" not in row.last_error
        assert row.email_sent_at is None and sms_outbox == []  # a later attempt sends both


@pytest.mark.django_db
class TestSMSBackends:
    def test_file_backend_writes_one_private_file_per_message(self, tmp_path):
        backend = sms.get_backend("accounts.sms.FileBackend", file_path=tmp_path / "sms")
        sms.send_sms(PHONE, "first", backend=backend)
        sms.send_sms(PHONE, "second", backend=backend)
        files = sorted((tmp_path / "sms").iterdir())
        assert len(files) == 2
        assert {f.read_text().split("\n\n", 1)[1].strip() for f in files} == {"first", "second"}
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)

    def test_file_backend_is_the_default_and_writes_into_sms_file_path(self, tmp_path, settings):
        settings.SMS_BACKEND = "accounts.sms.FileBackend"
        settings.SMS_FILE_PATH = str(tmp_path)
        sms.send_sms(PHONE, "hello")
        (only,) = tmp_path.iterdir()
        assert only.read_text() == f"To: {PHONE}\n\nhello\n"

    def test_console_backend(self):
        stream = io.StringIO()
        sms.send_sms(PHONE, "hello", backend=sms.ConsoleBackend(stream=stream))
        assert PHONE in stream.getvalue() and "hello" in stream.getvalue()

    def test_locmem_backend_is_the_test_default(self, sms_outbox):
        sms.send_sms(PHONE, "hello")
        assert sms_outbox == [sms.SMSMessage(to=PHONE, body="hello")]

    def test_an_unknown_backend_is_a_configuration_error(self, settings):
        settings.SMS_BACKEND = "accounts.sms.NoSuchBackend"
        with pytest.raises(ImproperlyConfigured):
            sms.send_sms(PHONE, "hello")


@pytest.mark.django_db
class TestPhone:
    @pytest.mark.parametrize("phone", ["01632 960123", "+0123456789", "+44 1632 960123", "+12"])
    def test_phone_must_be_international(self, nurse, phone):
        nurse.phone = phone
        with pytest.raises(ValidationError) as info:
            nurse.full_clean()
        assert "phone" in info.value.message_dict

    def test_phone_is_encrypted_at_rest_and_audited_only_as_changed(self, nurse):
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [nurse.pk])
            raw = bytes(cursor.fetchone()[0])
        assert PHONE.encode() not in raw
        nurse.phone = "+441632960999"
        nurse.save()
        row = AuditEvent.objects.filter(object_label=f"user {nurse}").latest("id")
        assert row.changes["phone"] == "changed"
        assert "960999" not in str(row.changes)
        nurse.first_name = "Florence"
        nurse.save()
        row = AuditEvent.objects.filter(object_label=f"user {nurse}").latest("id")
        assert "phone" not in row.changes  # unchanged: not reported


def notify(user, n: int) -> list[Notification]:
    return [make([user], subject=f"Bed B{i} booked at CGH")[0] for i in range(n)]


@pytest.mark.django_db
class TestInboxPages:
    def test_the_inbox_lists_own_notifications_newest_first_with_unread_marked(self, nurse, doctor, mfa_login):
        notify(nurse, 2)
        notification_mark_read(user=nurse, notification_id=Notification.objects.filter(recipient=nurse).first().pk)
        make([doctor], subject="Not for the nurse")
        client = mfa_login(nurse)

        r = client.get(reverse("accounts:notifications"))

        assert r.status_code == 200 and "no-store" in r["Cache-Control"]
        html = r.content.decode()
        assert "Not for the nurse" not in html
        assert html.index("Bed B1 booked") < html.index("Bed B0 booked")
        assert html.count("<strong>Unread</strong>") == 1
        assert "Notifications (1 unread)" in html
        assert "<script>" not in html and "<style" not in html and " style=" not in html

    def test_mark_one_read_then_all_read(self, nurse, mfa_login):
        first, second, third = notify(nurse, 3)
        client = mfa_login(nurse)

        r = client.post(reverse("accounts:notification_read", args=[first.pk]))
        assert r.status_code == 302 and r["Location"] == reverse("accounts:notifications")
        first.refresh_from_db()
        assert first.read_at is not None

        r = client.post(reverse("accounts:notifications_read_all"), follow=True)
        assert "Marked 2 notifications read." in r.content.decode()
        assert "Notifications (0 unread)" in r.content.decode()
        assert not Notification.objects.filter(recipient=nurse, read_at__isnull=True).exists()

    def test_another_users_notification_is_not_found(self, nurse, doctor, mfa_login):
        (theirs,) = make([doctor])
        client = mfa_login(nurse)
        assert client.post(reverse("accounts:notification_read", args=[theirs.pk])).status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_marking_read_needs_post(self, nurse, mfa_login):
        (mine,) = make([nurse])
        client = mfa_login(nurse)
        assert client.get(reverse("accounts:notification_read", args=[mine.pk])).status_code == 405
        assert client.get(reverse("accounts:notifications_read_all")).status_code == 405

    def test_signed_out_visitors_are_sent_to_sign_in(self, client):
        r = client.get(reverse("accounts:notifications"))
        assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))

    def test_the_inbox_costs_the_same_queries_for_5_and_50_notifications(self, nurse, mfa_login):
        client = mfa_login(nurse)

        def queries() -> int:
            client.get(reverse("accounts:notifications"))  # warm up (session touch)
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(reverse("accounts:notifications")).status_code == 200
            return len(ctx.captured_queries)

        notify(nurse, 5)
        small = queries()
        notify(nurse, 45)
        assert queries() == small

    def test_the_unread_count_in_the_menu_is_one_count_query(self, nurse, mfa_login):
        notify(nurse, 3)
        client = mfa_login(nurse)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(reverse("accounts:dashboard"))
        assert "Notifications (3 unread)" in r.content.decode()
        touching = [q["sql"] for q in ctx.captured_queries if "accounts_notification" in q["sql"]]
        assert len(touching) == 1 and "COUNT(" in touching[0].upper()


@pytest.mark.django_db
class TestServices:
    def test_mark_all_read_touches_only_the_users_own_unread(self, nurse, doctor):
        notify(nurse, 2)
        make([doctor])
        assert notifications_mark_all_read(user=nurse) == 2
        assert notifications_mark_all_read(user=nurse) == 0
        assert Notification.objects.get(recipient=doctor).read_at is None

    def test_mark_read_keeps_the_first_read_time(self, nurse):
        (row,) = make([nurse])
        first = notification_mark_read(user=nurse, notification_id=row.pk).read_at
        assert notification_mark_read(user=nurse, notification_id=row.pk).read_at == first


@pytest.mark.django_db
class TestAPI:
    def test_list_shows_only_own_notifications_in_pages(self, nurse, doctor, mfa_login):
        notify(nurse, 3)
        make([doctor], subject="Not for the nurse")
        client = mfa_login(nurse)

        r = client.get(reverse("api:notifications"))

        assert r.status_code == 200
        data = r.json()
        assert data["count"] == 3 and "next" in data
        assert [n["subject"] for n in data["results"]] == [f"Bed B{i} booked at CGH" for i in (2, 1, 0)]
        assert set(data["results"][0]) == {"id", "kind", "subject", "body", "link", "created_at", "read_at"}

    def test_read_marks_own_and_404s_for_anothers(self, nurse, doctor, mfa_login):
        (mine,) = make([nurse])
        (theirs,) = make([doctor])
        client = mfa_login(nurse)

        r = client.post(reverse("api:notification-read", args=[mine.pk]))
        assert r.status_code == 200 and r.json()["read_at"] is not None

        r = client.post(reverse("api:notification-read", args=[theirs.pk]))
        assert r.status_code == 404
        theirs.refresh_from_db()
        assert theirs.read_at is None

    def test_needs_a_signed_in_mfa_verified_user(self, nurse, password):
        c = Client()
        assert c.get(reverse("api:notifications")).status_code in (401, 403)
        c.post(reverse("accounts:login"), {"username": nurse.username, "password": password})  # no MFA yet
        assert c.get(reverse("api:notifications")).status_code == 403
        assert c.post(reverse("api:notification-read", args=[1])).status_code == 403

    def test_csrf_is_enforced(self, nurse, mfa_login):
        (mine,) = make([nurse])
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = mfa_login(nurse).cookies  # the same signed-in session, without a CSRF token
        assert strict.post(reverse("api:notification-read", args=[mine.pk])).status_code == 403
        mine.refresh_from_db()
        assert mine.read_at is None
