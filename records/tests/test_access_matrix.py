"""Every record URL and endpoint, as every role, under every grant state: 403 (or 404) unless the grant opens it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from records.models import AccessGrant
from records.services import diagnosis_create, grant_care_team
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


def urls(patient_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("get", reverse("records:chart", args=[patient_id]), {}),
        ("get", reverse("api:patient-chart", args=[patient_id]), {}),
        ("post", reverse("records:diagnosis_add", args=[patient_id]), {"code": "X1", "text": "matrix"}),
        (
            "post",
            reverse("records:prescription_add", args=[patient_id]),
            {"medication": "M", "dose": "1", "frequency": "daily", "duration_days": "1"},
        ),
        ("post", reverse("records:lab_order", args=[patient_id]), {"test": "T"}),
        ("post", reverse("records:note_add", args=[patient_id]), {"text": "matrix"}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", GRANT_STATES)
def test_access_matrix(role, state, make_user, mfa_login):
    hospital = HospitalFactory(code="MTX")
    admin = make_user(Role.HOSPITAL_ADMIN, username="mtx.admin", hospital=hospital)
    author = make_user(Role.DOCTOR, username="mtx.author", hospital=hospital)
    patient = PatientFactory(name="Matrix Patient")
    grant_care_team(actor=admin, patient=patient, grantee=author)
    diagnosis_create(actor=author, patient=patient, code="A00", text="matrix secret text")
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
    opens_chart = state in ("live", "demographics_only")
    writes = state == "live" and role == Role.DOCTOR
    for method, url, data in urls(patient.pk):
        r = getattr(c, method)(url, data)
        body = r.content.decode(errors="replace")
        if method == "get":
            if opens_chart:
                assert r.status_code == 200, (url, r.status_code)
                assert ("matrix secret text" in body) == (state == "live"), url
            else:
                assert r.status_code in (403, 404), (url, r.status_code)
                assert "Matrix Patient" not in body and "matrix secret text" not in body
        else:
            if writes:
                assert r.status_code == 302, (url, r.status_code)
            else:
                assert r.status_code in (403, 404), (url, r.status_code)


@pytest.mark.django_db
def test_unknown_patients_are_404_everywhere(make_user, mfa_login):
    c = mfa_login(make_user(Role.DOCTOR, username="mtx.nobody"), Client())
    for method, url, data in urls(10**12):
        assert getattr(c, method)(url, data).status_code == 404, url
