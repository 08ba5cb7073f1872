"""Who is told about bookings, holds, transfers, discharges and alerts, what they are told, and when."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from beds import notify
from beds.models import Admission, AdmissionStatus, AlertScope, EmergencyAlert
from beds.services import (
    admission_book,
    admission_cancel_hold,
    admission_confirm_hold,
    admission_discharge,
    admission_hold,
    admission_transfer,
)
from beds.tasks import notify_expiring_holds, release_expired_holds
from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory

PATIENT_NAME = "Ada Lovelace"
REASON = "suspected meningitis"


@pytest.fixture
def cgh(db):
    hospital = HospitalFactory(code="CGH", name="Central General", region="North")
    ward = WardFactory(hospital=hospital, name="Critical care")
    beds = [BedFactory(ward=ward, label=f"ICU-{i}", kind="icu") for i in (3, 4, 5)]
    return hospital, beds


@pytest.fixture
def people(make_user, cgh):
    """Who works where. Only the first five should hear about CGH's beds."""
    hospital, _ = cgh
    other = HospitalFactory(code="OTH", region="North")
    hear = {
        "nurse": make_user(Role.NURSE, username="cgh.nurse", hospital=hospital, phone="+441632960001"),
        "doctor": make_user(Role.DOCTOR, username="cgh.doctor", hospital=hospital),
        "staff": make_user(Role.HOSPITAL_STAFF, username="cgh.staff", hospital=hospital),
        "admin": make_user(Role.HOSPITAL_ADMIN, username="cgh.admin", hospital=hospital),
        "coordinator": make_user(Role.EMERGENCY_COORDINATOR, username="coord"),
    }
    silent = {
        "pharmacist": make_user(Role.PHARMACIST, username="cgh.pharmacist", hospital=hospital),
        "inactive": make_user(Role.NURSE, username="cgh.gone", hospital=hospital, is_active=False),
        "other_nurse": make_user(Role.NURSE, username="oth.nurse", hospital=other),
        "other_admin": make_user(Role.HOSPITAL_ADMIN, username="oth.admin", hospital=other),
        "patient": make_user(Role.PATIENT, username="pat"),
        "it": make_user(Role.IT_SECURITY, username="it"),
        "inactive_coordinator": make_user(Role.EMERGENCY_COORDINATOR, username="coord.gone", is_active=False),
    }
    return hear, silent


@pytest.fixture
def patient(db):
    return PatientFactory(name=PATIENT_NAME)


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


@pytest.mark.django_db
class TestBooking:
    def test_ward_staff_and_coordinators_hear_of_a_booking_and_nobody_else(
        self, cgh, people, patient, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
    ):
        hospital, _ = cgh
        hear, _ = people
        with django_capture_on_commit_callbacks(execute=True):
            admission = admission_book(
                actor=hear["coordinator"], patient=patient, kind="icu", hospital=hospital, reason=REASON
            )

        assert recipients("admission.booked") == {u.username for u in hear.values()}
        row = Notification.objects.filter(kind="admission.booked").first()
        assert row.subject == "ICU bed ICU-3 booked at CGH"
        assert row.body == f"Admission {admission.pk} was booked into ICU bed ICU-3 (Critical care, CGH)."
        assert row.link == reverse("beds:hospital", args=[hospital.pk])
        assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in hear.values())
        assert [m.to for m in sms_outbox] == ["+441632960001"]

    def test_no_patient_data_reaches_notifications_emails_or_texts(
        self, cgh, people, patient, django_capture_on_commit_callbacks, mailoutbox, sms_outbox
    ):
        hospital, beds = cgh
        actor = people[0]["coordinator"]
        with django_capture_on_commit_callbacks(execute=True):
            admission = admission_book(actor=actor, patient=patient, kind="icu", hospital=hospital, reason=REASON)
        with django_capture_on_commit_callbacks(execute=True):
            admission_transfer(actor=actor, admission_id=admission.pk, to_bed_id=beds[1].pk)
        with django_capture_on_commit_callbacks(execute=True):
            admission_discharge(actor=actor, admission_id=admission.pk)

        texts = [str(v) for row in Notification.objects.values("subject", "body", "link") for v in row.values()]
        texts += [m.subject + m.body for m in mailoutbox] + [m.body for m in sms_outbox]
        assert len(texts) > 20
        for secret in ("Lovelace", "Ada", patient.mrn, "meningitis", str(patient.date_of_birth)):
            assert not [t for t in texts if secret in t], secret

    def test_a_rolled_back_booking_notifies_nobody(
        self, cgh, people, patient, django_capture_on_commit_callbacks, mailoutbox
    ):
        hospital, _ = cgh
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            admission_book(actor=people[0]["coordinator"], patient=patient, kind="icu", hospital=hospital)
            raise RuntimeError("later step failed")
        assert callbacks == [] and mailoutbox == []
        assert not Notification.objects.exists()


@pytest.mark.django_db
class TestEvents:
    def test_every_admission_event_notifies_with_its_own_subject(self, cgh, people, django_capture_on_commit_callbacks):
        hospital, beds = cgh
        actor = people[0]["coordinator"]
        with django_capture_on_commit_callbacks(execute=True):
            hold = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital)
        with django_capture_on_commit_callbacks(execute=True):
            admission_confirm_hold(actor=actor, admission_id=hold.pk)
        with django_capture_on_commit_callbacks(execute=True):
            admission_transfer(actor=actor, admission_id=hold.pk, to_bed_id=beds[1].pk)
        with django_capture_on_commit_callbacks(execute=True):
            admission_discharge(actor=actor, admission_id=hold.pk)
        with django_capture_on_commit_callbacks(execute=True):
            released = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital)
        with django_capture_on_commit_callbacks(execute=True):
            admission_cancel_hold(actor=actor, admission_id=released.pk)

        subjects = {
            kind: set(Notification.objects.filter(kind=kind).values_list("subject", flat=True))
            for kind in Notification.objects.values_list("kind", flat=True).distinct()
        }
        assert subjects == {
            "admission.held": {"ICU bed ICU-3 held at CGH", "ICU bed ICU-5 held at CGH"},
            "admission.confirmed": {"ICU bed ICU-3 hold confirmed at CGH"},
            "admission.transferred": {"ICU bed ICU-4 taken by a transfer at CGH"},
            "admission.discharged": {"ICU bed ICU-4 discharged at CGH"},
            "admission.hold_released": {"ICU bed ICU-5 hold released at CGH"},
        }
        assert Notification.objects.filter(kind="admission.held").count() == 2 * len(people[0])

    def test_a_transfer_to_another_hospital_notifies_both_hospitals_staff(
        self, cgh, people, make_user, django_capture_on_commit_callbacks
    ):
        hospital, _ = cgh
        hear, _ = people
        actor = people[0]["coordinator"]
        elsewhere = BedFactory(ward=WardFactory(hospital=HospitalFactory(code="EAST"), name="ITU"), label="E1")
        east_nurse = make_user(Role.NURSE, username="east.nurse", hospital=elsewhere.hospital)
        admission = admission_book(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital)

        with django_capture_on_commit_callbacks(execute=True):
            admission_transfer(actor=actor, admission_id=admission.pk, to_bed_id=elsewhere.pk)

        # The ward the patient leaves and the one they arrive at, and the coordinators.
        assert recipients("admission.transferred") == {east_nurse.username} | {u.username for u in hear.values()}

    def test_an_unknown_event_is_a_programming_error(self, cgh, people):
        admission = admission_book(
            actor=people[0]["coordinator"], patient=PatientFactory(), kind="icu", hospital=cgh[0]
        )
        with pytest.raises(ValueError, match="unknown admission event"):
            notify.admission_event(admission, "exploded")

    def test_the_notification_queries_do_not_grow_with_the_number_of_staff(
        self, cgh, people, make_user, django_assert_max_num_queries
    ):
        hospital, _ = cgh
        admission = admission_book(
            actor=people[0]["coordinator"], patient=PatientFactory(), kind="icu", hospital=hospital
        )
        for i in range(30):
            make_user(Role.NURSE, username=f"extra{i}", hospital=hospital)
        # bed + recipients + one insert (+ savepoint statements); one row per recipient, no query each.
        with django_assert_max_num_queries(6):
            assert notify.admission_announce(admission.pk, "booked") == len(people[0]) + 30

    def test_the_booking_only_queues_the_fan_out_with_ids_after_commit(
        self, cgh, people, django_capture_on_commit_callbacks, monkeypatch
    ):
        from beds import tasks

        queued = []
        monkeypatch.setattr(tasks.announce_admission, "delay", lambda *args: queued.append(args))
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            admission = admission_book(
                actor=people[0]["coordinator"], patient=PatientFactory(), kind="icu", hospital=cgh[0]
            )
        assert not Notification.objects.exists() and queued == []
        for callback in callbacks:
            callback()
        assert queued == [(admission.pk, "booked", None)]


@pytest.mark.django_db
class TestExpiringHolds:
    def test_a_hold_about_to_expire_is_announced_exactly_once(
        self, cgh, people, mailoutbox, django_capture_on_commit_callbacks
    ):
        hospital, _ = cgh
        actor = people[0]["coordinator"]
        soon = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=5)
        later = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=60)

        with django_capture_on_commit_callbacks(execute=True):
            assert notify.holds_notify_expiring() == 1
        assert notify.holds_notify_expiring() == 0
        assert notify_expiring_holds.delay().get() == 0

        rows = Notification.objects.filter(kind="admission.hold_expiring")
        assert rows.count() == len(people[0])
        assert {r.subject for r in rows} == {
            f"ICU bed ICU-3 hold expires at {timezone.localtime(soon.hold_expires_at):%H:%M} UTC at CGH"
        }
        assert len(mailoutbox) == len(people[0])
        soon.refresh_from_db()
        later.refresh_from_db()
        assert soon.expiry_notified_at is not None and later.expiry_notified_at is None

        # Fifty-five minutes on, the second hold's turn; the first has expired and is not announced again.
        assert notify.holds_notify_expiring(now=timezone.now() + timedelta(minutes=55)) == 1
        assert Notification.objects.filter(kind="admission.hold_expiring").count() == 2 * len(people[0])

    def test_expired_confirmed_and_released_holds_are_not_announced(self, cgh, people):
        hospital, _ = cgh
        actor = people[0]["coordinator"]
        confirmed = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=5)
        admission_confirm_hold(actor=actor, admission_id=confirmed.pk)
        released = admission_hold(actor=actor, patient=PatientFactory(), kind="icu", hospital=hospital, minutes=5)
        admission_cancel_hold(actor=actor, admission_id=released.pk)
        assert notify.holds_notify_expiring() == 0
        assert notify.holds_notify_expiring(now=timezone.now() + timedelta(hours=1)) == 0

    def test_the_announcement_is_audited_like_any_admission_change(self, cgh, people):
        from audit.models import AuditEvent

        hold = admission_hold(
            actor=people[0]["coordinator"], patient=PatientFactory(), kind="icu", hospital=cgh[0], minutes=5
        )
        notify.holds_notify_expiring()
        row = AuditEvent.objects.filter(object_label=f"admission {hold.pk}", action="update").latest("id")
        assert "expiry_notified_at" in row.changes

    def test_release_task_releases_expired_holds_and_tells_the_ward(
        self, cgh, people, django_capture_on_commit_callbacks
    ):
        hospital, _ = cgh
        hold = admission_hold(actor=people[0]["coordinator"], patient=PatientFactory(), kind="icu", hospital=hospital)
        Admission.objects.filter(pk=hold.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))

        with django_capture_on_commit_callbacks(execute=True):
            assert release_expired_holds.delay().get() == 1

        hold.refresh_from_db()
        assert hold.status == AdmissionStatus.CANCELLED
        assert recipients("admission.hold_released") == {u.username for u in people[0].values()}

    def test_both_jobs_run_every_minute_on_beat(self):
        schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert schedule["beds.tasks.release_expired_holds"] == 60.0
        assert schedule["beds.tasks.notify_expiring_holds"] == 60.0


@pytest.mark.django_db
class TestAlerts:
    def test_an_occupancy_alert_reaches_the_hospitals_ward_staff_and_coordinators(self, cgh, people):
        hospital, _ = cgh
        alert = EmergencyAlert.objects.create(
            message="CGH: ICU occupancy at 100% (2 of 2 beds) — threshold 90%.",
            scope=AlertScope.HOSPITAL,
            hospital=hospital,
            region=hospital.region,
            kind="icu",
            automatic=True,
        )
        notify.alert_event(alert)
        assert recipients("alert.raised") == {u.username for u in people[0].values()}
        row = Notification.objects.filter(kind="alert.raised").first()
        assert row.subject == "Occupancy alert: CGH" and row.body == alert.message

    def test_a_coordinators_free_text_is_not_copied_and_a_region_alert_reaches_the_region(self, cgh, people):
        hear, silent = people
        alert = EmergencyAlert.objects.create(
            message=f"Patient {PATIENT_NAME} needs ECMO", scope=AlertScope.REGION, region="North"
        )
        notify.alert_event(alert)
        expected = {u.username for u in hear.values()} | {
            silent["other_nurse"].username,
            silent["other_admin"].username,
        }
        assert recipients("alert.raised") == expected
        assert not Notification.objects.filter(body__contains="Lovelace").exists()
        assert not Notification.objects.filter(subject__contains="Lovelace").exists()
