"""Appointments: booked from the chart by clinicians with the full record, moved on by the hospital's
clinicians, listed and cancelled by the patient; the same rules over the API."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from records.models import Appointment
from records.services import PatientError, appointment_create, grant_care_team
from tests.factories import AppointmentFactory, HospitalFactory, PatientFactory


def in_days(days: float):
    return timezone.now() + timedelta(days=days)


def local(dt) -> str:
    return f"{timezone.localtime(dt):%Y-%m-%dT%H:%M}"


def book_page(c, patient, **data):
    return c.post(reverse("records:appointments", args=[patient.pk]), data)


def measure(c, url) -> int:
    c.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
class TestClinicianPage:
    def test_a_doctor_books_from_the_chart_with_a_doctor_or_nurse_of_the_hospital(self, care, make_user):
        make_user(Role.DOCTOR, username="far.doctor", hospital=HospitalFactory(code="FAR"))
        chart = care["doctor_c"].get(reverse("records:chart", args=[care["patient"].pk])).content.decode()
        assert reverse("records:appointments", args=[care["patient"].pk]) in chart
        page = care["doctor_c"].get(reverse("records:appointments", args=[care["patient"].pk])).content.decode()
        assert "Florence Lamp (care.nurse)" in page and "Gregory Mind (care.doctor)" in page
        assert "care.pharm" not in page and "far.doctor" not in page and "care.admin" not in page
        when = in_days(3)
        r = book_page(care["doctor_c"], care["patient"], clinician=care["nurse"].pk, starts_at=local(when))
        assert r.status_code == 302 and r["Location"] == reverse("records:appointments", args=[care["patient"].pk])
        appointment = Appointment.objects.get()
        assert appointment.clinician == care["nurse"] and appointment.status == "scheduled"
        assert appointment.hospital == care["hospital"] and appointment.starts_at.date() == when.date()
        page = care["doctor_c"].get(r["Location"]).content.decode()
        assert "Appointment booked" in page and "Scheduled" in page and local(when).replace("T", " ") in page

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"clinician": "nurse", "starts_at": "past"}, "Choose a time in the future."),
            ({"clinician": "nurse", "starts_at": "far"}, "Book at most a year ahead."),
            ({"clinician": "nurse", "starts_at": "tomorrow at noon"}, "Enter a date and time"),
            ({"clinician": "pharmacist", "starts_at": "soon"}, "Choose a doctor or nurse of your hospital"),
            ({"clinician": "999999999", "starts_at": "soon"}, "Choose a doctor or nurse of your hospital"),
            ({"starts_at": "soon"}, "This field is required."),
        ],
    )
    def test_bad_bookings_show_clear_form_errors_and_write_nothing(self, care, data, message):
        times = {"past": local(in_days(-1)), "far": local(in_days(400)), "soon": local(in_days(1))}
        data = {k: times.get(v, care[v].pk if v in care else v) for k, v in data.items()}
        r = book_page(care["doctor_c"], care["patient"], **data)
        assert r.status_code == 400 and message in r.content.decode()
        assert not Appointment.objects.exists()

    def test_a_demographics_only_grant_cannot_book_and_so_cannot_widen_itself(self, care, mfa_login, make_user):
        other_nurse = make_user(Role.NURSE, username="care.nurse2", hospital=care["hospital"])
        grant_care_team(actor=care["admin"], patient=care["patient"], grantee=other_nurse, scope="demographics")
        c = mfa_login(other_nurse, Client())
        page = c.get(reverse("records:appointments", args=[care["patient"].pk])).content.decode()
        assert "Book an appointment" not in page
        r = book_page(c, care["patient"], clinician=other_nurse.pk, starts_at=local(in_days(1)))
        assert r.status_code == 403 and not Appointment.objects.exists()
        with pytest.raises(PatientError, match="full record"):
            appointment_create(actor=other_nurse, patient=care["patient"], clinician=other_nurse, starts_at=in_days(1))

    def test_clinicians_mark_appointments_completed_cancelled_or_no_show_once(self, care):
        a = appointment_create(
            actor=care["doctor"], patient=care["patient"], clinician=care["doctor"], starts_at=in_days(1)
        )
        url = reverse("records:appointment_status", args=[a.pk])
        r = care["nurse_c"].post(url, {"status": "scheduled"}, follow=True)
        assert b"cannot change that way" in r.content
        r = care["nurse_c"].post(url, {"status": "no_show"}, follow=True)
        assert b"Appointment marked no-show" in r.content
        a.refresh_from_db()
        assert a.status == "no_show"
        r = care["nurse_c"].post(url, {"status": "completed"}, follow=True)
        assert b"cannot change that way" in r.content
        a.refresh_from_db()
        assert a.status == "no_show"
        assert AuditEvent.objects.filter(object_label=f"appointment {a.pk}", action="update").count() == 1

    def test_without_access_or_from_another_hospital_nothing_changes(self, care, make_user, mfa_login):
        a = appointment_create(
            actor=care["doctor"], patient=care["patient"], clinician=care["doctor"], starts_at=in_days(1)
        )
        url = reverse("records:appointment_status", args=[a.pk])
        assert care["stranger_c"].post(url, {"status": "cancelled"}).status_code == 403
        far = make_user(Role.DOCTOR, username="far.doc", hospital=HospitalFactory(code="FAR2"))
        grant_care_team(actor=care["admin"], patient=care["patient"], grantee=far)
        far_c = mfa_login(far, Client())
        assert far_c.post(url, {"status": "cancelled"}).status_code == 403
        page = far_c.get(reverse("records:appointments", args=[care["patient"].pk])).content.decode()
        assert reverse("records:appointment_status", args=[a.pk]) not in page
        assert care["stranger_c"].get(reverse("records:appointments", args=[care["patient"].pk])).status_code == 403
        a.refresh_from_db()
        assert a.status == "scheduled"
        assert AuditEvent.objects.filter(
            object_label=f"appointments of patient {care['patient'].mrn}", outcome="denied", actor_name="care.stranger"
        ).exists()

    def test_the_page_costs_the_same_queries_for_one_or_many_appointments(self, care, django_assert_num_queries):
        url = reverse("records:appointments", args=[care["patient"].pk])
        AppointmentFactory(patient=care["patient"], clinician=care["doctor"])
        one = measure(care["doctor_c"], url)
        for i in range(15):
            AppointmentFactory(
                patient=care["patient"], clinician=care["nurse"] if i % 2 else care["doctor"], starts_at=in_days(i - 7)
            )
        with django_assert_num_queries(one):
            page = care["doctor_c"].get(url)
        assert page.content.decode().count(">Save</button>") == 16
        assert AuditEvent.objects.filter(
            object_label=f"appointments of patient {care['patient'].mrn}", actor_name="care.doctor"
        ).exists()


@pytest.mark.django_db
class TestPatientPortal:
    def test_the_patient_sees_upcoming_and_past_and_cancels_an_upcoming_one(self, care):
        soon = appointment_create(
            actor=care["doctor"], patient=care["patient"], clinician=care["nurse"], starts_at=in_days(2)
        )
        past = AppointmentFactory(patient=care["patient"], clinician=care["doctor"], starts_at=in_days(-30))
        page = care["patient_c"].get(reverse("records:my_appointments")).content.decode()
        upcoming, earlier = page.split("<h2>Past</h2>")
        assert "Florence Lamp" in upcoming and "Gregory Mind" in earlier
        assert reverse("records:my_appointment_cancel", args=[soon.pk]) in upcoming
        assert reverse("records:my_appointment_cancel", args=[past.pk]) not in page
        r = care["patient_c"].post(reverse("records:my_appointment_cancel", args=[soon.pk]), follow=True)
        assert b"Appointment cancelled" in r.content
        soon.refresh_from_db()
        assert soon.status == "cancelled"
        r = care["patient_c"].post(reverse("records:my_appointment_cancel", args=[past.pk]), follow=True)
        assert b"Only upcoming scheduled appointments" in r.content
        past.refresh_from_db()
        assert past.status == "scheduled"

    def test_a_patient_cannot_touch_someone_elses_appointment(self, care, make_user, patient_login):
        theirs = appointment_create(
            actor=care["doctor"], patient=care["patient"], clinician=care["doctor"], starts_at=in_days(2)
        )
        other_user = make_user(Role.PATIENT, username="other.pat")
        PatientFactory(user=other_user)
        c = patient_login(other_user)
        assert c.post(reverse("records:my_appointment_cancel", args=[theirs.pk])).status_code == 404
        assert "Gregory" not in c.get(reverse("records:my_appointments")).content.decode()
        r = c.patch(
            reverse("api:appointment", args=[theirs.pk]), {"status": "cancelled"}, content_type="application/json"
        )
        assert r.status_code == 403
        assert c.get(reverse("api:patient-appointments", args=[care["patient"].pk])).status_code == 403
        theirs.refresh_from_db()
        assert theirs.status == "scheduled"
        assert care["doctor_c"].get(reverse("records:my_appointments")).status_code == 403

    def test_the_patient_page_costs_the_same_queries_for_one_or_many(self, care, django_assert_num_queries):
        url = reverse("records:my_appointments")
        AppointmentFactory(patient=care["patient"], clinician=care["doctor"])
        one = measure(care["patient_c"], url)
        for i in range(15):
            AppointmentFactory(patient=care["patient"], clinician=care["nurse"], starts_at=in_days(i - 7))
        with django_assert_num_queries(one):
            page = care["patient_c"].get(url)
        assert page.content.decode().count("Florence Lamp") == 15


@pytest.mark.django_db
class TestApi:
    def list_url(self, care):
        return reverse("api:patient-appointments", args=[care["patient"].pk])

    def test_list_book_and_change_status(self, care):
        c = care["doctor_c"]
        r = c.post(
            self.list_url(care),
            {"clinician": care["nurse"].pk, "starts_at": in_days(5).isoformat()},
            content_type="application/json",
        )
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["clinician"] == care["nurse"].pk and body["clinician_name"] == "Florence Lamp"
        assert body["status"] == "scheduled" and body["hospital_code"] == "CARE"
        listing = c.get(self.list_url(care)).json()
        assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]
        url = reverse("api:appointment", args=[body["id"]])
        r = c.patch(url, {"status": "completed"}, content_type="application/json")
        assert r.status_code == 200 and r.json()["status"] == "completed"
        r = c.patch(url, {"status": "cancelled"}, content_type="application/json")
        assert r.status_code == 409 and "cannot change" in r.json()["detail"]
        r = c.patch(url, {"status": "postponed"}, content_type="application/json")
        assert r.status_code == 400 and "status" in r.json()
        assert Appointment.objects.get().status == "completed"

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"clinician": "nurse", "starts_at": "past"}, "detail"),
            ({"clinician": "pharmacist", "starts_at": "soon"}, "clinician"),
            ({"clinician": "nurse", "starts_at": "not a date"}, "starts_at"),
            ({"starts_at": "soon"}, "clinician"),
        ],
    )
    def test_bad_bookings_are_400_with_a_message(self, care, data, field):
        times = {"past": in_days(-1).isoformat(), "soon": in_days(1).isoformat()}
        data = {k: times.get(v, care[v].pk if v in care else v) for k, v in data.items()}
        r = care["doctor_c"].post(self.list_url(care), json.dumps(data), content_type="application/json")
        assert r.status_code == 400 and field in r.json()
        assert not Appointment.objects.exists()

    def test_the_patient_lists_and_cancels_but_cannot_book_or_complete(self, care):
        a = appointment_create(
            actor=care["doctor"], patient=care["patient"], clinician=care["doctor"], starts_at=in_days(1)
        )
        c = care["patient_c"]
        assert c.get(self.list_url(care)).json()["results"][0]["id"] == a.pk
        r = c.post(
            self.list_url(care),
            {"clinician": care["doctor"].pk, "starts_at": in_days(2).isoformat()},
            content_type="application/json",
        )
        assert r.status_code == 403
        url = reverse("api:appointment", args=[a.pk])
        assert c.patch(url, {"status": "completed"}, content_type="application/json").status_code == 400
        r = c.patch(url, {"status": "cancelled"}, content_type="application/json")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"

    def test_no_access_is_403_unknown_is_404_and_refusals_are_audited(self, care):
        c = care["stranger_c"]
        r = c.get(self.list_url(care))
        assert r.status_code == 403 and "Ada" not in r.content.decode()
        assert c.get(reverse("api:patient-appointments", args=[10**12])).status_code == 404
        assert (
            c.patch(reverse("api:appointment", args=[10**12]), {}, content_type="application/json").status_code == 404
        )
        assert AuditEvent.objects.filter(
            outcome="denied", actor_name="care.stranger", patient_id=care["patient"].pk
        ).exists()

    def test_csrf_is_enforced(self, care):
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = care["doctor_c"].cookies
        strict.get(reverse("records:appointments", args=[care["patient"].pk]))
        data = {"clinician": care["nurse"].pk, "starts_at": in_days(5).isoformat()}
        r = strict.post(self.list_url(care), data, content_type="application/json")
        assert r.status_code == 403 and "CSRF" in r.json()["detail"] and not Appointment.objects.exists()
        r = strict.post(reverse("records:appointments", args=[care["patient"].pk]), data)
        assert r.status_code == 403 and not Appointment.objects.exists()
        token = strict.cookies["csrftoken"].value
        r = strict.post(self.list_url(care), data, content_type="application/json", HTTP_X_CSRFTOKEN=token)
        assert r.status_code == 201

    def test_the_list_costs_the_same_queries_for_one_or_many(self, care, django_assert_num_queries):
        url = self.list_url(care)
        AppointmentFactory(patient=care["patient"], clinician=care["doctor"])
        one = measure(care["doctor_c"], url)
        for i in range(15):
            AppointmentFactory(patient=care["patient"], clinician=care["nurse"], starts_at=in_days(i - 7))
        with django_assert_num_queries(one):
            r = care["doctor_c"].get(url)
        assert r.json()["count"] == 16


@pytest.mark.django_db
def test_pages_listing_staff_never_decrypt_their_phones(care, monkeypatch):
    """Appointments, documents and grants show staff by name: their (encrypted) phones are not read."""
    from cryptography.fernet import Fernet

    from records.services import document_upload

    for user, phone in ((care["doctor"], "+44 20 7946 0001"), (care["nurse"], "+44 20 7946 0002")):
        user.phone = phone
        user.save()
    appointment_create(actor=care["doctor"], patient=care["patient"], clinician=care["nurse"], starts_at=in_days(2))
    from django.core.files.uploadedfile import SimpleUploadedFile

    document_upload(
        actor=care["doctor"],
        patient=care["patient"],
        title="Spirometry",
        upload=SimpleUploadedFile("s.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    seen = []
    decrypt = Fernet.decrypt

    def recording(self, token, *args, **kwargs):
        plain = decrypt(self, token, *args, **kwargs)
        seen.append(plain)
        return plain

    monkeypatch.setattr(Fernet, "decrypt", recording)
    doctor_phone, nurse_phone = b"+44 20 7946 0001", b"+44 20 7946 0002"
    pages = [
        # Signed in as the doctor, whose own account (and so phone) every request loads: the nurse is listed
        # (the appointment's clinician, a grantee, a choice in the booking form), her phone is not read.
        (care["doctor_c"], reverse("records:chart", args=[care["patient"].pk]), {nurse_phone}),
        (care["doctor_c"], reverse("records:appointments", args=[care["patient"].pk]), {nurse_phone}),
        # Signed in as the patient: both are listed (grants, the document's uploader, the appointment).
        (care["patient_c"], reverse("records:my_record"), {doctor_phone, nurse_phone}),
        (care["patient_c"], reverse("records:my_appointments"), {doctor_phone, nurse_phone}),
    ]
    for client, url, unread in pages:
        seen.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Florence Lamp" in response.content, url
        assert seen, f"{url} decrypts nothing at all: the check would prove nothing"
        assert not set(seen) & unread, url
