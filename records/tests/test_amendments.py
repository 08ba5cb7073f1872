"""Amendments (ONC 170.315(d)(4)): the patient asks, a clinician caring for them accepts or denies, once;
accepted ones are shown with the record they amend, denied ones keep their request and reason."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import AuditEvent
from records.models import Amendment, Diagnosis
from records.services import (
    PatientError,
    amendment_decide,
    amendment_request,
    grant_care_team,
    note_create,
    prescription_create,
)
from tests.factories import PatientFactory

REQUEST = "The asthma was ruled out by spirometry in 2021"
REASON = "Spirometry in 2023 confirmed reversible obstruction"


def request_page(c, target: str, text: str = REQUEST):
    return c.post(reverse("records:my_amendment_request"), {"target": target, "text": text}, follow=True)


def chart(c, patient):
    return c.get(reverse("records:chart", args=[patient.pk])).content.decode()


def decide(c, amendment, decision: str, reason: str = ""):
    return c.post(
        reverse("records:amendment_decide", args=[amendment.pk]), {"decision": decision, "reason": reason}, follow=True
    )


def today() -> str:
    return f"{timezone.localtime():%Y-%m-%d}"


@pytest.mark.django_db
class TestRequestAndDecide:
    def test_an_accepted_amendment_is_appended_to_the_diagnosis_it_targets(self, care):
        r = request_page(care["patient_c"], f"diagnosis:{care['diagnosis'].pk}")
        assert b"Amendment requested" in r.content
        amendment = Amendment.objects.get()
        assert amendment.status == "requested" and amendment.target == care["diagnosis"]
        assert amendment.requested_by == care["me"]

        page = chart(care["doctor_c"], care["patient"])
        assert "Amendment requests" in page and REQUEST in page and "Diagnosis J45" in page
        assert "Amended by patient request" not in page

        r = decide(care["doctor_c"], amendment, "accept")
        assert b"Amendment accepted" in r.content
        amendment.refresh_from_db()
        assert amendment.status == "accepted" and amendment.decided_by == care["doctor"] and amendment.verify()

        shown = f"Amended by patient request on {today()}: {REQUEST}"
        for c in (care["doctor_c"], care["nurse_c"], care["patient_c"]):
            assert shown in chart(c, care["patient"])
        assert shown in care["patient_c"].get(reverse("records:my_record")).content.decode()
        # The diagnosis itself is untouched and still passes its integrity check.
        diagnosis = Diagnosis.objects.get()
        assert diagnosis.text == "Asthma, mild intermittent" and diagnosis.verify()
        api = care["doctor_c"].get(reverse("api:patient-chart", args=[care["patient"].pk])).json()
        assert api["diagnoses"][0]["amendments"][0]["text"] == REQUEST

    def test_amendments_follow_the_record_they_target(self, care, mfa_login):
        note = note_create(actor=care["doctor"], patient=care["patient"], text="Smokes ten a day")
        rx = prescription_create(
            actor=care["doctor"],
            patient=care["patient"],
            medication="Salbutamol",
            dose="100 mcg",
            frequency="as needed",
            duration_days=30,
        )
        for target, text in ((note, "I never smoked"), (rx, "I was given two inhalers"), (None, "My name is Ada King")):
            a = amendment_request(actor=care["me"], patient=care["patient"], target=target, text=text)
            amendment_decide(actor=care["nurse"], amendment_id=a.pk, accept=True)
        page = chart(care["doctor_c"], care["patient"])
        assert page.index("Smokes ten a day") < page.index("I never smoked") < page.index("<h2>Documents")
        assert page.index("Salbutamol") < page.index("I was given two inhalers")
        assert page.index("Ada Lovelace") < page.index("My name is Ada King") < page.index("<h2>Diagnoses")
        # A demographics-only grant sees the details amendment, not the clinical ones.
        grant_care_team(actor=care["admin"], patient=care["patient"], grantee=care["pharmacist"], scope="demographics")
        page = chart(mfa_login(care["pharmacist"], Client()), care["patient"])
        assert "My name is Ada King" in page
        assert "I never smoked" not in page and "I was given two inhalers" not in page

    def test_a_denial_needs_a_reason_which_the_patient_sees(self, care):
        amendment = amendment_request(actor=care["me"], patient=care["patient"], target=care["diagnosis"], text=REQUEST)
        r = decide(care["doctor_c"], amendment, "deny")
        assert b"Give the reason for the denial" in r.content
        amendment.refresh_from_db()
        assert amendment.status == "requested"
        r = decide(care["doctor_c"], amendment, "deny", REASON)
        assert b"Amendment denied" in r.content
        amendment.refresh_from_db()
        assert amendment.status == "denied" and amendment.denial_reason == REASON and amendment.text == REQUEST
        mine = care["patient_c"].get(reverse("records:my_record")).content.decode()
        assert REQUEST in mine and REASON in mine and "Denied" in mine
        page = chart(care["doctor_c"], care["patient"])
        assert "Amended by patient request" not in page and REQUEST not in page

    def test_a_decided_amendment_cannot_be_decided_again(self, care):
        amendment = amendment_request(actor=care["me"], patient=care["patient"], target=None, text=REQUEST)
        amendment_decide(actor=care["doctor"], amendment_id=amendment.pk, accept=False, reason=REASON)
        with pytest.raises(PatientError, match="already been decided"):
            amendment_decide(actor=care["nurse"], amendment_id=amendment.pk, accept=True)
        r = decide(care["nurse_c"], amendment, "accept")
        assert b"already been decided" in r.content
        amendment.refresh_from_db()
        assert amendment.status == "denied" and amendment.decided_by == care["doctor"]

    def test_only_the_patient_requests_and_only_for_their_own_records(self, care, make_user, patient_login):
        with pytest.raises(PatientError, match="Only the patient"):
            amendment_request(actor=care["doctor"], patient=care["patient"], text=REQUEST)
        other_user = make_user(Role.PATIENT, username="other.p")
        other = PatientFactory(user=other_user)
        with pytest.raises(PatientError, match="your own records"):
            amendment_request(actor=other_user, patient=other, target=care["diagnosis"], text=REQUEST)
        r = request_page(patient_login(other_user), f"diagnosis:{care['diagnosis'].pk}")
        assert b"Choose one of your records" in r.content
        assert not Amendment.objects.exists()
        assert care["doctor_c"].post(reverse("records:my_amendment_request"), {"text": "x"}).status_code == 403

    @pytest.mark.parametrize(
        ("target", "text", "message"),
        [
            ("", "   ", b"Say what should be amended"),
            ("", "x" * 5001, b"Keep the request to 5000 characters"),
            ("diagnosis:abc", REQUEST, b"Choose one of your records"),
            ("patient:1", REQUEST, b"Choose one of your records"),
            ("diagnosis:999999999", REQUEST, b"Choose one of your records"),
        ],
    )
    def test_bad_requests_get_a_message_and_write_nothing(self, care, target, text, message):
        r = request_page(care["patient_c"], target, text)
        assert r.status_code == 200 and message in r.content
        assert not Amendment.objects.exists()

    def test_only_doctors_and_nurses_with_the_full_record_decide(self, care, mfa_login):
        amendment = amendment_request(actor=care["me"], patient=care["patient"], target=None, text=REQUEST)
        assert decide(care["stranger_c"], amendment, "accept").status_code == 403
        grant_care_team(actor=care["admin"], patient=care["patient"], grantee=care["pharmacist"])
        pharm = mfa_login(care["pharmacist"], Client())
        assert decide(pharm, amendment, "accept").status_code == 403
        assert "Amendment requests" not in chart(pharm, care["patient"])
        assert "Amendment requests" not in chart(care["patient_c"], care["patient"])
        with pytest.raises(PatientError, match="doctor or nurse"):
            amendment_decide(actor=care["me"], amendment_id=amendment.pk, accept=True)
        amendment.refresh_from_db()
        assert amendment.status == "requested"
        r = decide(care["doctor_c"], amendment, "maybe")
        assert b"Accept or deny" in r.content
        assert care["doctor_c"].post(reverse("records:amendment_decide", args=[10**12])).status_code == 404


@pytest.mark.django_db
class TestSafety:
    def test_text_is_encrypted_at_rest_and_never_in_the_audit_trail(self, care):
        amendment = amendment_request(actor=care["me"], patient=care["patient"], target=care["diagnosis"], text=REQUEST)
        amendment_decide(actor=care["doctor"], amendment_id=amendment.pk, accept=False, reason=REASON)
        with connection.cursor() as cursor:
            cursor.execute("SELECT text, denial_reason FROM records_amendment")
            raw = b"".join(bytes(v) for v in cursor.fetchone())
        assert b"spirometry" not in raw.lower()
        events = AuditEvent.objects.filter(object_label=f"amendment {amendment.pk}")
        assert {e.action for e in events} == {"create", "update"}
        assert {(e.category, e.patient_id) for e in events} == {("clinical_note", care["patient"].pk)}
        update = events.get(action="update")
        assert update.changes["denial_reason"] == "changed" and update.changes["status"]["new"] == "denied"
        chart(care["doctor_c"], care["patient"])
        care["patient_c"].get(reverse("records:my_record"))
        dump = str(list(AuditEvent.objects.values_list("changes", "object_label", "reason")))
        assert "spirometry" not in dump.lower() and "obstruction" not in dump

    def test_a_tampered_amendment_is_reported_never_shown_nor_decided(self, care):
        first = amendment_request(actor=care["me"], patient=care["patient"], target=None, text=REQUEST)
        second = amendment_request(actor=care["me"], patient=care["patient"], target=None, text="Second request")
        with connection.cursor() as cursor:
            cursor.execute("SELECT text FROM records_amendment WHERE id = %s", [second.pk])
            cipher = cursor.fetchone()[0]
            cursor.execute("UPDATE records_amendment SET text = %s WHERE id = %s", [cipher, first.pk])
        page = chart(care["doctor_c"], care["patient"])
        assert f"Integrity error: amendment #{first.pk}" in page and page.count("Second request") == 1
        mine = care["patient_c"].get(reverse("records:my_record")).content.decode()
        assert f"Integrity error: amendment #{first.pk}" in mine
        assert AuditEvent.objects.filter(object_label=f"amendment {first.pk}", outcome="denied").exists()
        with pytest.raises(PatientError, match="integrity"):
            amendment_decide(actor=care["doctor"], amendment_id=first.pk, accept=True)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_amendment SET text = %s WHERE id = %s", [b"garbage", first.pk])
        assert care["doctor_c"].get(reverse("records:chart", args=[care["patient"].pk])).status_code == 200
        assert care["patient_c"].get(reverse("records:my_record")).status_code == 200
        r = decide(care["doctor_c"], first, "accept")
        assert r.status_code == 200 and b"failed its integrity check" in r.content
        assert Amendment.objects.filter(status="requested").count() == 2

    def test_my_record_and_the_chart_cost_the_same_queries_for_one_or_many_amendments(
        self, care, django_assert_num_queries
    ):
        def measure(c, url) -> int:
            c.get(url)
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            return len(ctx.captured_queries)

        mine, chart_url = reverse("records:my_record"), reverse("records:chart", args=[care["patient"].pk])
        a = amendment_request(actor=care["me"], patient=care["patient"], target=care["diagnosis"], text=REQUEST)
        amendment_decide(actor=care["doctor"], amendment_id=a.pk, accept=True)
        amendment_request(actor=care["me"], patient=care["patient"], target=None, text="pending one")
        one_mine, one_chart = measure(care["patient_c"], mine), measure(care["doctor_c"], chart_url)
        for i in range(12):
            note = note_create(actor=care["doctor"], patient=care["patient"], text=f"note {i}")
            a = amendment_request(actor=care["me"], patient=care["patient"], target=note, text=f"fix {i}")
            if i % 2:
                amendment_decide(actor=care["doctor"], amendment_id=a.pk, accept=True)
        with django_assert_num_queries(one_mine):
            page = care["patient_c"].get(mine)
        assert page.content.decode().count("Amended by patient request") == 7
        with django_assert_num_queries(one_chart):
            page = care["doctor_c"].get(chart_url)
        assert page.content.decode().count("Amended by patient request") == 7


@pytest.mark.django_db
def test_the_patients_words_are_shown_as_text_never_as_markup(care):
    evil = '<script>alert("x")</script>'
    a = amendment_request(actor=care["me"], patient=care["patient"], target=care["diagnosis"], text=evil)
    pending = chart(care["doctor_c"], care["patient"])
    amendment_decide(actor=care["doctor"], amendment_id=a.pk, accept=True)
    for page in (pending, chart(care["patient_c"], care["patient"])):
        assert evil not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
