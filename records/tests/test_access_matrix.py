"""Every record URL and endpoint, as every role, under every grant state: 403 (or 404) unless the grant opens it."""

from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from records.models import AccessGrant
from records.services import (
    amendment_request,
    appointment_create,
    consent_code_create,
    diagnosis_create,
    document_upload,
    grant_care_team,
    lab_order,
    prescription_create,
)
from tests.factories import HospitalFactory, PatientFactory

ROLES = [
    Role.DOCTOR,
    Role.NURSE,
    Role.PHARMACIST,
    Role.LAB_TECHNICIAN,
    Role.HOSPITAL_STAFF,
    Role.EMERGENCY_COORDINATOR,
    Role.PRIVACY_OFFICER,
    Role.AUDITOR,
    Role.IT_SECURITY,
]
GRANT_STATES = ["none", "live", "expired", "revoked", "demographics_only"]
OPENS = ("live", "demographics_only")
CLINICIANS = (Role.DOCTOR, Role.NURSE)


# Who gets through, per endpoint: (role, grant state) -> allowed. Everyone else gets 403 or 404.
def chart_opens(role, state) -> bool:
    return state in OPENS


def doctor_writes(role, state) -> bool:
    return state == "live" and role == Role.DOCTOR


def clinician_with_full_record(role, state) -> bool:
    return state == "live" and role in CLINICIANS


def clinician_of_the_hospital(role, state) -> bool:
    return state in OPENS and role in CLINICIANS


def full_record(role, state) -> bool:
    return state == "live"


def patient_only(role, state) -> bool:
    return False


def staff(role, state) -> bool:
    return True  # every role in the matrix is staff; what they are shown depends on the grant


def pharmacist(role, state) -> bool:
    return role == Role.PHARMACIST  # of the prescribing hospital: the queue needs no grant on the patient


def lab_technician(role, state) -> bool:
    return role == Role.LAB_TECHNICIAN  # of the ordering hospital


def care_role(role, state) -> bool:
    # The patient's consent code is what opens the record, for whoever cares for them.
    return role in (Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.LAB_TECHNICIAN)


class Case(NamedTuple):
    method: str
    url: str
    data: dict
    allowed: Callable
    ok: int  # the status when allowed
    shows_secret: bool = False  # when allowed, the diagnosis text appears exactly with the full record
    json: bool = False
    own: bool = False  # a patient-portal URL: no patient id in it, 403 for anyone not linked to a record
    lists_patient: bool = False  # when allowed, the patient is listed exactly when a live grant opens the record
    id_in_url: bool = True  # an unknown id in the URL is a 404


def urls(ids: dict) -> list[Case]:
    pid = ids["patient"]
    soon = (timezone.now() + timedelta(days=3)).isoformat()
    return [
        Case("get", reverse("records:chart", args=[pid]), {}, chart_opens, 200, shows_secret=True),
        Case("get", reverse("api:patient-chart", args=[pid]), {}, chart_opens, 200, shows_secret=True),
        Case(
            "post", reverse("records:diagnosis_add", args=[pid]), {"code": "X1", "text": "matrix"}, doctor_writes, 302
        ),
        Case(
            "post",
            reverse("records:prescription_add", args=[pid]),
            {"medication": "M", "dose": "1", "frequency": "daily", "duration_days": "1"},
            doctor_writes,
            302,
        ),
        Case("post", reverse("records:lab_order", args=[pid]), {"test": "T"}, doctor_writes, 302),
        Case("post", reverse("records:note_add", args=[pid]), {"text": "matrix"}, doctor_writes, 302),
        # Appointments: seen with the demographics, booked with the full record, moved on by the hospital.
        Case("get", reverse("records:appointments", args=[pid]), {}, chart_opens, 200),
        Case(
            "post",
            reverse("records:appointments", args=[pid]),
            {"clinician": ids["author"], "starts_at": soon[:16]},
            clinician_with_full_record,
            302,
        ),
        Case(
            "post",
            reverse("records:appointment_status", args=[ids["appointment_page"]]),
            {"status": "completed"},
            clinician_of_the_hospital,
            302,
        ),
        Case("get", reverse("api:patient-appointments", args=[pid]), {}, chart_opens, 200),
        Case(
            "post",
            reverse("api:patient-appointments", args=[pid]),
            {"clinician": ids["author"], "starts_at": soon},
            clinician_with_full_record,
            201,
            json=True,
        ),
        Case(
            "patch",
            reverse("api:appointment", args=[ids["appointment_api"]]),
            {"status": "no_show"},
            clinician_of_the_hospital,
            200,
            json=True,
        ),
        # Amendments are decided by doctors and nurses with the full record; documents open with it.
        Case(
            "post",
            reverse("records:amendment_decide", args=[ids["amendment"]]),
            {"decision": "accept"},
            clinician_with_full_record,
            302,
        ),
        Case("get", reverse("records:document", args=[ids["document"]]), {}, full_record, 200),
        # The patient's own pages: nobody on staff gets through, whatever the grant.
        Case("get", reverse("records:my_record"), {}, patient_only, 200, own=True),
        Case("get", reverse("records:my_appointments"), {}, patient_only, 200, own=True),
        Case(
            "post",
            reverse("records:my_appointment_cancel", args=[ids["appointment_own"]]),
            {},
            patient_only,
            302,
            own=True,
        ),
        Case(
            "post",
            reverse("records:my_amendment_request"),
            {"target": "", "text": "matrix"},
            patient_only,
            302,
            own=True,
        ),
        Case("post", reverse("records:my_document_upload"), {"title": "matrix"}, patient_only, 302, own=True),
        # The API beside each page: patients (search), what doctors add to the chart, the queues.
        Case(
            "get", reverse("records:search"), {"q": "matrix patient"}, staff, 200, lists_patient=True, id_in_url=False
        ),
        Case("get", reverse("api:patients"), {}, staff, 200, lists_patient=True, id_in_url=False),
        Case("get", reverse("api:patients"), {"q": "Matrix  Patient"}, staff, 200, lists_patient=True, id_in_url=False),
        Case(
            "post",
            reverse("api:patient-diagnoses", args=[pid]),
            {"code": "X1", "text": "matrix"},
            doctor_writes,
            201,
            json=True,
        ),
        Case(
            "post",
            reverse("api:patient-prescriptions", args=[pid]),
            {"medication": "M", "dose": "1", "frequency": "daily", "duration_days": 1},
            doctor_writes,
            201,
            json=True,
        ),
        Case("post", reverse("api:patient-lab-orders", args=[pid]), {"test": "T"}, doctor_writes, 201, json=True),
        Case("post", reverse("api:patient-notes", args=[pid]), {"text": "matrix"}, doctor_writes, 201, json=True),
        Case(
            "post",
            reverse("records:note_add", args=[pid]),
            {"kind": "allergy", "substance": "Matrixium", "severity": "mild"},
            doctor_writes,
            302,
        ),
        Case(
            "post",
            reverse("api:patient-allergies", args=[pid]),
            {"substance": "Matrixium", "severity": "mild"},
            doctor_writes,
            201,
            json=True,
        ),
        Case("get", reverse("records:pharmacy"), {}, pharmacist, 200, id_in_url=False),
        Case("get", reverse("api:pharmacy-queue"), {}, pharmacist, 200, id_in_url=False),
        Case("post", reverse("api:prescription-dispense", args=[ids["prescription"]]), {}, pharmacist, 200, json=True),
        Case("get", reverse("records:lab"), {}, lab_technician, 200, id_in_url=False),
        Case(
            "post",
            reverse("records:lab"),
            {"order": ids["lab_test_page"], "result": "matrix result"},
            lab_technician,
            302,
            id_in_url=False,
        ),
        Case("get", reverse("api:lab-queue"), {}, lab_technician, 200, id_in_url=False),
        Case(
            "post",
            reverse("api:lab-test-result", args=[ids["lab_test_api"]]),
            {"result": "matrix result"},
            lab_technician,
            200,
            json=True,
        ),
        # Last: a redeemed code opens the record, which would change what the cases above expect.
        Case("post", reverse("records:consent_redeem", args=[pid]), {"code": ids["code_page"]}, care_role, 302),
        Case("post", reverse("api:patient-consent", args=[pid]), {"code": ids["code_api"]}, care_role, 201, json=True),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", GRANT_STATES)
def test_access_matrix(role, state, make_user, mfa_login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    hospital = HospitalFactory(code="MTX")
    admin = make_user(Role.HOSPITAL_ADMIN, username="mtx.admin", hospital=hospital)
    author = make_user(Role.DOCTOR, username="mtx.author", hospital=hospital)
    me = make_user(Role.PATIENT, username="mtx.patient")
    patient = PatientFactory(name="Matrix Patient", user=me)
    grant_care_team(actor=admin, patient=patient, grantee=author)
    diagnosis_create(actor=author, patient=patient, code="A00", text="matrix secret text")
    soon = timezone.now() + timedelta(days=2)
    ids = {
        "patient": patient.pk,
        "author": author.pk,
        **{
            f"appointment_{name}": appointment_create(actor=admin, patient=patient, clinician=author, starts_at=soon).pk
            for name in ("page", "api", "own")
        },
        "amendment": amendment_request(actor=me, patient=patient, text="matrix amendment").pk,
        "document": document_upload(
            actor=author, patient=patient, upload=SimpleUploadedFile("m.pdf", b"%PDF-1.7 matrix"), title="Matrix doc"
        ).pk,
        "prescription": prescription_create(
            actor=author, patient=patient, medication="Matrixcillin", dose="1", frequency="daily", duration_days=1
        ).pk,
        **{
            f"lab_test_{name}": lab_order(actor=author, patient=patient, test="Matrix panel").pk
            for name in ("page", "api")
        },
        **{f"code_{name}": consent_code_create(actor=me, patient=patient)[1] for name in ("page", "api")},
    }
    user = make_user(role, username=f"mtx.{role}".replace("_", "-"), hospital=hospital)
    if state != "none":
        grant = grant_care_team(
            actor=admin, patient=patient, grantee=user, scope="demographics" if state == "demographics_only" else "full"
        )
        if state == "expired":
            AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        if state == "revoked":
            AccessGrant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now())
    c = mfa_login(user, Client())
    for case in urls(ids):
        extra = {"content_type": "application/json"} if case.json or case.method == "patch" else {}
        r = getattr(c, case.method)(case.url, case.data, **extra)
        body = r.content.decode(errors="replace")
        if case.allowed(role, state):
            assert r.status_code == case.ok, (case.url, r.status_code, body[:300])
            if case.shows_secret:
                assert ("matrix secret text" in body) == (state == "live"), case.url
            if case.lists_patient:
                assert ("Matrix Patient" in body) == (state in OPENS), (case.url, case.data)
        else:
            assert r.status_code in (403, 404), (case.url, r.status_code)
            assert "Matrix Patient" not in body and "matrix secret text" not in body, case.url
            assert "matrix amendment" not in body and "Matrix doc" not in body, case.url


@pytest.mark.django_db
def test_unknown_ids_are_404_everywhere(make_user, mfa_login):
    c = mfa_login(make_user(Role.DOCTOR, username="mtx.nobody"), Client())
    names = ("patient", "author", "appointment_page", "appointment_api", "appointment_own", "amendment", "document")
    unknown = dict.fromkeys((*names, "prescription", "lab_test_page", "lab_test_api"), 10**12)
    for case in urls({**unknown, "code_page": "ABCDE-FGHJK", "code_api": "ABCDE-FGHJK"}):
        if case.own or not case.id_in_url:
            continue
        extra = {"content_type": "application/json"} if case.json or case.method == "patch" else {}
        assert getattr(c, case.method)(case.url, case.data, **extra).status_code == 404, case.url
