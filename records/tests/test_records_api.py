"""The records API beside the pages: patients and search, what doctors add to the chart, the pharmacy and
lab queues, consent codes. Same permissions, services and audit rows as the pages; the schema stays clean."""

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
from records.models import AccessGrant, Allergy, ClinicalNote, ConsentCode, Diagnosis, LabTest, Prescription
from records.services import (
    consent_code_create,
    grant_care_team,
    lab_order,
    lab_result,
    patient_create,
    prescription_create,
)
from tests.factories import HospitalFactory, PatientFactory


def measure(c, url, **params) -> int:
    c.get(url, params)
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def post_json(c, url, data):
    return c.post(url, json.dumps(data), content_type="application/json")


def chart(c, patient) -> dict:
    r = c.get(reverse("api:patient-chart", args=[patient.pk]))
    assert r.status_code == 200, r.content[:300]
    return r.json()


@pytest.fixture
def lab(care, make_user, mfa_login):
    tech = make_user(Role.LAB_TECHNICIAN, username="care.lab", hospital=care["hospital"])
    return tech, mfa_login(tech, Client())


@pytest.fixture
def far(make_user, mfa_login):
    """Staff of another hospital."""
    hospital = HospitalFactory(code="FARH")
    users = {
        role: make_user(role, username=f"far.{role}".replace("_", "-"), hospital=hospital)
        for role in (Role.PHARMACIST, Role.LAB_TECHNICIAN)
    }
    return {role: mfa_login(user, Client()) for role, user in users.items()}


@pytest.mark.django_db
class TestPatients:
    url = reverse("api:patients")

    def test_lists_only_the_patients_you_hold_a_live_grant_for(self, care):
        PatientFactory(name="Ada Lovelace")  # the same name, no grant: never listed
        mine = care["doctor_c"].get(self.url).json()
        assert mine["count"] == 1
        assert mine["results"] == [{"id": care["patient"].pk, "mrn": care["patient"].mrn, "name": "Ada Lovelace"}]
        assert care["stranger_c"].get(self.url).json() == {"count": 0, "next": None, "previous": None, "results": []}
        assert care["stranger_c"].get(self.url, {"q": "Ada Lovelace"}).json()["results"] == []

    def test_searches_by_exact_name_or_phone_through_the_blind_index(self, care):
        grace = patient_create(
            actor=care["admin"],
            mrn="API-0001",
            name="Grace Hopper",
            date_of_birth=timezone.now().date().replace(year=1906),
            phone="+1 (202) 555-0147",
        )
        grant_care_team(actor=care["admin"], patient=grace, grantee=care["doctor"])

        def found(q: str) -> list[str]:
            r = care["doctor_c"].get(self.url, {"q": q})
            assert r.status_code == 200
            return [p["mrn"] for p in r.json()["results"]]

        assert found("  grace   HOPPER ") == ["API-0001"]
        assert found("Grace") == []  # names match whole, as on the page
        assert found("+1 202 555 0147") == ["API-0001"]
        assert found("555-0147") == []  # fewer than 6 digits of the whole number: no phone search
        assert found("") == sorted([care["patient"].mrn, "API-0001"])
        page = care["doctor_c"].get(reverse("records:search"), {"q": "+1 202 555 0147"}).content.decode()
        assert "API-0001" in page and "Grace Hopper" in page

    def test_lists_and_searches_are_audited_as_queries_without_the_search_terms(self, care):
        care["doctor_c"].get(self.url)
        care["doctor_c"].get(self.url, {"q": "Ada Lovelace"})
        care["doctor_c"].get(reverse("records:search"), {"q": "Ada Lovelace"})
        rows = AuditEvent.objects.filter(action="query", category="demographics", actor_name="care.doctor")
        assert sorted(rows.values_list("object_label", "reason")) == [
            ("my patients", "1 patient(s)"),
            ("patient search", "1 patient(s)"),
            ("patient search", "1 patient(s)"),
        ]
        assert "Ada" not in str(list(AuditEvent.objects.values_list("object_label", "reason", "changes")))

    def test_patients_cannot_list_patients_and_the_refusal_is_audited(self, care):
        r = care["patient_c"].get(self.url)
        assert r.status_code == 403 and "Ada" not in r.content.decode()
        assert AuditEvent.objects.filter(
            outcome="denied", actor_name="ada.l", object_label__startswith="GET /api/v1/patients/"
        ).exists()
        assert care["patient_c"].get(reverse("records:search"), {"q": "Ada Lovelace"}).status_code == 403

    @pytest.mark.parametrize(
        ("params", "status"),
        [({"page": "abc"}, 404), ({"page": "99"}, 404), ({"q": "x" * 5000}, 200), ({"q": "%'\";--"}, 200)],
    )
    def test_odd_input_is_never_a_server_error(self, care, params, status):
        r = care["doctor_c"].get(self.url, params)
        assert r.status_code == status and "Ada" not in r.content.decode()

    def test_a_page_costs_the_same_queries_for_one_or_many_patients(self, care, django_assert_num_queries):
        one = measure(care["doctor_c"], self.url)
        searched = measure(care["doctor_c"], self.url, q="Ada Lovelace")
        for i in range(15):
            patient = PatientFactory(name="Ada Lovelace" if i % 2 else f"Other Person{i}")
            grant_care_team(actor=care["admin"], patient=patient, grantee=care["doctor"])
        with django_assert_num_queries(one):
            r = care["doctor_c"].get(self.url)
        assert r.json()["count"] == 16
        with django_assert_num_queries(searched):
            r = care["doctor_c"].get(self.url, {"q": "Ada Lovelace"})
        assert r.json()["count"] == 8


# endpoint, body, model, the service's refusal for a blank form (field, message)
ADDITIONS = {
    "diagnoses": (
        {"code": "j18.9", "text": "Community-acquired pneumonia"},
        Diagnosis,
        "diagnoses",
        ("code", "Give the code and the diagnosis text."),
    ),
    "prescriptions": (
        {"medication": "Amoxicillin", "dose": "500 mg", "frequency": "tds", "duration_days": 7, "instructions": "food"},
        Prescription,
        "prescriptions",
        ("medication", "Give the medication, dose, frequency."),
    ),
    "lab-orders": ({"test": "CRP"}, LabTest, "lab", ("test", "Name the test (up to 200 characters).")),
    "notes": ({"text": "Night sweats for two weeks"}, ClinicalNote, "notes", ("text", "Write the note.")),
    "allergies": (
        {"substance": "Penicillin", "severity": "severe", "reaction": "anaphylaxis"},
        Allergy,
        "allergies",
        ("substance", "Name the substance."),
    ),
}


def add_url(kind: str, patient) -> str:
    return reverse(f"api:patient-{kind}", args=[patient.pk])


@pytest.mark.django_db
class TestAddToChart:
    @pytest.mark.parametrize("kind", ADDITIONS)
    def test_a_doctor_adds_and_gets_the_record_exactly_as_the_chart_shows_it(self, care, kind):
        body, model, section, _ = ADDITIONS[kind]
        r = post_json(care["doctor_c"], add_url(kind, care["patient"]), body)
        assert r.status_code == 201, r.content
        created = r.json()
        record = model.objects.get(pk=created["id"])
        assert record.patient == care["patient"] and record.author == care["doctor"] and record.verify()
        shown = [item for item in chart(care["doctor_c"], care["patient"])[section] if item["id"] == record.pk]
        assert shown == [created]  # the same fields and values as the chart, nothing more
        assert AuditEvent.objects.filter(
            action="create", object_label__endswith=f" {record.pk}", patient_id=care["patient"].pk
        ).exists()

    @pytest.mark.parametrize("kind", ADDITIONS)
    def test_a_blank_form_is_a_400_with_the_services_message_by_field_and_nothing_written(self, care, kind):
        body, model, _, (field, message) = ADDITIONS[kind]
        blank = {name: "" if isinstance(value, str) else 1 for name, value in body.items()}
        r = post_json(care["doctor_c"], add_url(kind, care["patient"]), blank)
        assert r.status_code == 400 and r.json()[field] == [message]
        assert model.objects.count() == (1 if model is Diagnosis else 0)

    @pytest.mark.parametrize(
        ("kind", "body", "field", "message"),
        [
            ("diagnoses", {"code": "X" * 21, "text": "t"}, "code", "at most 20 characters"),
            ("diagnoses", {"text": "t"}, "code", "This field is required."),
            ("diagnoses", {"code": None, "text": "t"}, "code", "may not be null"),
            ("diagnoses", {"code": ["J18"], "text": "t"}, "code", "Not a valid string."),
            ("prescriptions", {**ADDITIONS["prescriptions"][0], "duration_days": "a week"}, "duration_days", "valid"),
            ("prescriptions", {**ADDITIONS["prescriptions"][0], "duration_days": 0}, "duration_days", "1 to 365"),
            ("prescriptions", {**ADDITIONS["prescriptions"][0], "medication": "M" * 201}, "medication", "at most"),
            ("lab-orders", {"test": "T" * 201}, "test", "up to 200 characters"),
            ("allergies", {"substance": "Latex", "severity": "deadly"}, "severity", "Choose mild, moderate or severe."),
            ("allergies", {"substance": "S" * 201, "severity": "mild"}, "substance", "at most 200"),
            ("notes", ["not", "an", "object"], "non_field_errors", "Invalid data"),
        ],
    )
    def test_bad_input_is_a_400_by_field_and_nothing_is_written(self, care, kind, body, field, message):
        _, model, _, _ = ADDITIONS[kind]
        before = model.objects.count()
        r = post_json(care["doctor_c"], add_url(kind, care["patient"]), body)
        assert r.status_code == 400 and message in " ".join(r.json()[field]), r.content
        assert model.objects.count() == before

    def test_malformed_json_is_a_400(self, care):
        r = care["doctor_c"].post(add_url("notes", care["patient"]), "{not json", content_type="application/json")
        assert r.status_code == 400 and not ClinicalNote.objects.exists()

    @pytest.mark.parametrize("kind", ADDITIONS)
    def test_without_the_right_to_write_it_is_a_403_audited_and_nothing_is_written(self, care, kind, mfa_login):
        body, model, _, _ = ADDITIONS[kind]
        before = model.objects.count()
        grant_care_team(actor=care["admin"], patient=care["patient"], grantee=care["stranger"], scope="demographics")
        # A nurse with the full record, a doctor with the demographics only, the patient, a pharmacist.
        for name in ("nurse_c", "stranger_c", "patient_c"):
            r = post_json(care[name], add_url(kind, care["patient"]), body)
            assert r.status_code == 403, name
        r = post_json(mfa_login(care["pharmacist"], Client()), add_url(kind, care["patient"]), body)
        assert r.status_code == 403
        assert model.objects.count() == before
        assert AuditEvent.objects.filter(
            outcome="denied", object_label=f"POST {add_url(kind, care['patient'])}", actor_name="care.nurse"
        ).exists()
        assert post_json(care["doctor_c"], reverse(f"api:patient-{kind}", args=[10**12]), body).status_code == 404

    def test_csrf_is_enforced(self, care):
        strict = Client(enforce_csrf_checks=True)
        strict.cookies = care["doctor_c"].cookies
        r = post_json(strict, add_url("notes", care["patient"]), {"text": "no token"})
        assert r.status_code == 403 and not ClinicalNote.objects.exists()


@pytest.fixture
def rx(care):
    return prescription_create(
        actor=care["doctor"],
        patient=care["patient"],
        medication="Amoxicillin",
        dose="500 mg",
        frequency="three times a day",
        duration_days=7,
        instructions="Take with food; stop if rash",
    )


@pytest.fixture
def pharm_c(care, mfa_login) -> Client:
    return mfa_login(care["pharmacist"], Client())


def another_patient_of(care):
    patient = PatientFactory()
    grant_care_team(actor=care["admin"], patient=patient, grantee=care["doctor"])
    return patient


def dispense(c, prescription_id: int):
    return c.post(reverse("api:prescription-dispense", args=[prescription_id]), content_type="application/json")


@pytest.mark.django_db
class TestPharmacy:
    queue = reverse("api:pharmacy-queue")

    def test_the_queue_shows_record_numbers_and_what_was_prescribed_never_names_or_instructions(
        self, care, rx, pharm_c
    ):
        r = pharm_c.get(self.queue)
        assert r.status_code == 200
        (item,) = r.json()["results"]
        assert item == {
            "id": rx.pk,
            "created_at": item["created_at"],
            "patient": care["patient"].pk,
            "mrn": care["patient"].mrn,
            "author": "care.doctor",
            "medication": "Amoxicillin",
            "dose": "500 mg",
            "frequency": "three times a day",
            "duration_days": 7,
        }
        assert "Ada" not in r.content.decode() and "rash" not in r.content.decode()
        assert AuditEvent.objects.filter(
            action="query",
            category="prescription",
            actor_name="care.pharm",
            object_label=f"pharmacy queue of hospital {care['hospital'].pk}",
            reason="1 item(s)",
        ).exists()

    def test_only_pharmacists_see_a_queue_and_only_their_hospitals(self, care, rx, far):
        r = care["doctor_c"].get(self.queue)
        assert r.status_code == 403 and "Amoxicillin" not in r.content.decode()
        assert AuditEvent.objects.filter(
            outcome="denied", actor_name="care.doctor", object_label__contains="pharmacy"
        ).exists()
        assert far[Role.PHARMACIST].get(self.queue).json()["results"] == []

    def test_the_queue_costs_the_same_queries_for_one_or_many(self, care, rx, pharm_c, django_assert_num_queries):
        one = measure(pharm_c, self.queue)
        for i in range(15):
            prescription_create(
                actor=care["doctor"],
                patient=another_patient_of(care) if i % 2 else care["patient"],
                medication=f"M{i}",
                dose="1",
                frequency="daily",
                duration_days=3,
            )
        with django_assert_num_queries(one):
            r = pharm_c.get(self.queue)
        assert r.json()["count"] == 16

    def test_dispense_once_then_409_and_the_page_sees_the_same(self, care, rx, pharm_c):
        r = dispense(pharm_c, rx.pk)
        assert r.status_code == 200, r.content
        assert r.json() == {
            "id": rx.pk,
            "status": "dispensed",
            "dispensed_by": "care.pharm",
            "dispensed_at": r.json()["dispensed_at"],
        }
        rx.refresh_from_db()
        assert rx.status == "dispensed" and rx.dispensed_by == care["pharmacist"] and rx.verify()
        r = dispense(pharm_c, rx.pk)
        assert r.status_code == 409 and r.json() == {"detail": "This prescription is not waiting to be dispensed."}
        assert pharm_c.get(self.queue).json()["results"] == []
        assert b"Amoxicillin" not in pharm_c.get(reverse("records:pharmacy")).content

    def test_no_right_to_dispense_is_a_403_audited_and_nothing_changes(self, care, rx, far):
        for c in (care["doctor_c"], far[Role.PHARMACIST], care["patient_c"]):
            assert dispense(c, rx.pk).status_code == 403
        rx.refresh_from_db()
        assert rx.status == "prescribed" and rx.dispensed_by is None
        url = reverse("api:prescription-dispense", args=[rx.pk])
        assert AuditEvent.objects.filter(
            outcome="denied", object_label=f"POST {url}", actor_name="care.doctor"
        ).exists()
        assert dispense(care["doctor_c"], 10**12).status_code == 404

    def test_a_tampered_prescription_is_not_dispensed(self, care, rx, pharm_c):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_prescription SET dose = %s WHERE id = %s", ["5000 mg", rx.pk])
        r = dispense(pharm_c, rx.pk)
        assert r.status_code == 409 and "integrity check" in r.json()["detail"]
        rx.refresh_from_db()
        assert rx.status == "prescribed"


def record_result(c, order_id: int, data):
    return post_json(c, reverse("api:lab-test-result", args=[order_id]), data)


@pytest.mark.django_db
class TestLab:
    queue = reverse("api:lab-queue")

    def test_the_queue_shows_record_numbers_and_tests_never_names(self, care, lab):
        order = lab_order(actor=care["doctor"], patient=care["patient"], test="CRP")
        r = lab[1].get(self.queue)
        assert r.status_code == 200
        (item,) = r.json()["results"]
        assert item == {
            "id": order.pk,
            "created_at": item["created_at"],
            "patient": care["patient"].pk,
            "mrn": care["patient"].mrn,
            "author": "care.doctor",
            "test": "CRP",
        }
        assert "Ada" not in r.content.decode()
        assert AuditEvent.objects.filter(
            action="query", category="lab_result", actor_name="care.lab", reason="1 item(s)"
        ).exists()
        assert care["doctor_c"].get(self.queue).status_code == 403

    def test_the_queue_costs_the_same_queries_for_one_or_many(self, care, lab, django_assert_num_queries):
        lab_order(actor=care["doctor"], patient=care["patient"], test="T0")
        one = measure(lab[1], self.queue)
        for i in range(15):
            patient = another_patient_of(care) if i % 2 else care["patient"]
            lab_order(actor=care["doctor"], patient=patient, test=f"T{i + 1}")
        with django_assert_num_queries(one):
            r = lab[1].get(self.queue)
        assert r.json()["count"] == 16

    def test_record_a_result_once_and_the_chart_shows_it(self, care, lab):
        order = lab_order(actor=care["doctor"], patient=care["patient"], test="CRP")
        r = record_result(lab[1], order.pk, {"result": "87 mg/L", "reference_range": "< 5 mg/L"})
        assert r.status_code == 200, r.content
        assert r.json() == {
            "id": order.pk,
            "status": "resulted",
            "resulted_by": "care.lab",
            "resulted_at": r.json()["resulted_at"],
        }
        order.refresh_from_db()
        assert order.status == "resulted" and order.verify()
        (shown,) = chart(care["doctor_c"], care["patient"])["lab"]
        assert shown["result"] == "87 mg/L" and shown["reference_range"] == "< 5 mg/L"
        r = record_result(lab[1], order.pk, {"result": "90 mg/L"})
        assert r.status_code == 409 and r.json() == {"detail": "This order is not waiting for a result."}

    @pytest.mark.parametrize(
        ("data", "field", "message"),
        [
            ({"result": "   "}, "result", "Enter the result."),
            ({"reference_range": "1-2"}, "result", "This field is required."),
            ({"result": None}, "result", "may not be null"),
            ({"result": {"value": 1}}, "result", "Not a valid string."),
        ],
    )
    def test_bad_input_is_a_400_by_field_and_the_order_still_waits(self, care, lab, data, field, message):
        order = lab_order(actor=care["doctor"], patient=care["patient"], test="CRP")
        r = record_result(lab[1], order.pk, data)
        assert r.status_code == 400 and message in " ".join(r.json()[field])
        order.refresh_from_db()
        assert order.status == "ordered" and order.result == "" and order.resulted_by is None and order.verify()

    def test_no_right_to_record_is_a_403_and_nothing_changes(self, care, lab, far):
        order = lab_order(actor=care["doctor"], patient=care["patient"], test="CRP")
        for c in (care["doctor_c"], far[Role.LAB_TECHNICIAN], care["patient_c"]):
            assert record_result(c, order.pk, {"result": "1"}).status_code == 403
        order.refresh_from_db()
        assert order.status == "ordered"
        assert record_result(lab[1], 10**12, {"result": "1"}).status_code == 404
        # What the service refuses on its own is refused here too.
        lab_result(actor=lab[0], lab_test_id=order.pk, result="2")
        assert record_result(lab[1], order.pk, {"result": "3"}).status_code == 409


@pytest.fixture
def codes(care):
    """Two live codes of the patient, for a full-record grant."""
    return [consent_code_create(actor=care["me"], patient=care["patient"])[1] for _ in range(2)]


def redeem(c, patient_id: int, data):
    return post_json(c, reverse("api:patient-consent", args=[patient_id]), data)


INVALID = "That code is not valid for this patient, or it has expired or been used."


@pytest.mark.django_db
class TestConsent:
    def test_a_code_opens_the_record_once(self, care, codes, mfa_login):
        assert care["stranger_c"].get(reverse("api:patient-chart", args=[care["patient"].pk])).status_code == 403
        r = redeem(care["stranger_c"], care["patient"].pk, {"code": codes[0].lower()})
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["patient"] == care["patient"].pk and body["reason"] == "patient_consent"
        assert body["scope"] == "full" and "Ada" not in r.content.decode()
        assert chart(care["stranger_c"], care["patient"])["diagnoses"][0]["text"] == "Asthma, mild intermittent"
        r = redeem(mfa_login(care["pharmacist"], Client()), care["patient"].pk, {"code": codes[0]})
        assert r.status_code == 400 and r.json() == {"code": [INVALID]}

    def test_only_care_roles_redeem_and_others_cannot_spend_the_tries(self, care, codes, make_user, mfa_login):
        auditor = mfa_login(make_user(Role.AUDITOR, username="cons.auditor"), Client())
        for _ in range(6):
            r = redeem(auditor, care["patient"].pk, {"code": "WRONG-CODE1"})
            assert r.status_code == 403
        r = auditor.post(reverse("records:consent_redeem", args=[care["patient"].pk]), {"code": codes[0]})
        assert r.status_code == 403
        assert set(ConsentCode.objects.values_list("failed_attempts", flat=True)) == {0}
        assert not AccessGrant.objects.filter(grantee__username="cons.auditor").exists()
        assert AuditEvent.objects.filter(actor_name="cons.auditor", outcome="denied").count() == 7
        assert redeem(care["stranger_c"], care["patient"].pk, {"code": codes[0]}).status_code == 201

    def test_five_wrong_tries_on_the_page_or_the_api_end_the_codes(self, care, codes):
        url = reverse("records:consent_redeem", args=[care["patient"].pk])
        for _ in range(3):
            r = care["stranger_c"].post(url, {"code": "WRONG-CODE1"}, follow=True)
            assert INVALID.encode() in r.content.replace(b"&#x27;", b"'")
        for _ in range(2):
            r = redeem(care["stranger_c"], care["patient"].pk, {"code": "WRONG-CODE1"})
            assert r.status_code == 400 and r.json() == {"code": [INVALID]}
        assert set(ConsentCode.objects.values_list("failed_attempts", flat=True)) == {5}  # counted, not rolled back
        r = redeem(care["stranger_c"], care["patient"].pk, {"code": codes[1]})
        assert r.status_code == 400 and r.json() == {"code": [INVALID]}
        assert care["stranger_c"].get(reverse("api:patient-chart", args=[care["patient"].pk])).status_code == 403

    def test_an_expired_code_does_not_work(self, care, codes):
        ConsentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        r = redeem(care["stranger_c"], care["patient"].pk, {"code": codes[0]})
        assert r.status_code == 400 and r.json() == {"code": [INVALID]}

    @pytest.mark.parametrize("data", [{}, {"code": None}, {"code": ["A"]}, "code"])
    def test_bad_input_is_a_400_and_spends_no_try(self, care, codes, data):
        r = redeem(care["stranger_c"], care["patient"].pk, data)
        assert r.status_code == 400 and r.content
        assert set(ConsentCode.objects.values_list("failed_attempts", flat=True)) == {0}

    def test_unknown_patient_is_404(self, care):
        assert redeem(care["stranger_c"], 10**12, {"code": "ABCDE-FGHJK"}).status_code == 404


@pytest.mark.django_db
def test_the_schema_generates_without_warnings_or_errors(care):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS, (dict(GENERATOR_STATS._warn_cache), dict(GENERATOR_STATS._error_cache))
    for path in (
        "/api/v1/patients/",
        "/api/v1/patients/{patient_id}/diagnoses/",
        "/api/v1/patients/{patient_id}/prescriptions/",
        "/api/v1/patients/{patient_id}/lab-orders/",
        "/api/v1/patients/{patient_id}/notes/",
        "/api/v1/patients/{patient_id}/allergies/",
        "/api/v1/patients/{patient_id}/consent/",
        "/api/v1/pharmacy/prescriptions/",
        "/api/v1/prescriptions/{prescription_id}/dispense/",
        "/api/v1/lab/tests/",
        "/api/v1/lab-tests/{lab_test_id}/result/",
    ):
        assert path in schema["paths"], path
    r = care["doctor_c"].get(reverse("api-schema"))
    assert r.status_code == 200 and b"/api/v1/lab-tests/{lab_test_id}/result/" in r.content
