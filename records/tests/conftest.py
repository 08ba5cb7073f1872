"""A small world for the records pages: one hospital's care team around one patient who signs in."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from records.services import diagnosis_create, grant_care_team
from tests.factories import HospitalFactory, PatientFactory


@pytest.fixture
def patient_login(password):
    """Sign a patient in (patients without an authenticator need no second factor)."""

    def login(user) -> Client:
        c = Client()
        r = c.post(reverse("accounts:login"), {"username": user.username, "password": password})
        assert r.status_code == 302, r.content[:300]
        return c

    return login


@pytest.fixture
def care(make_user, mfa_login, patient_login):
    hospital = HospitalFactory(code="CARE")
    admin = make_user(Role.HOSPITAL_ADMIN, username="care.admin", hospital=hospital)
    doctor = make_user(Role.DOCTOR, username="care.doctor", hospital=hospital, first_name="Gregory", last_name="Mind")
    nurse = make_user(Role.NURSE, username="care.nurse", hospital=hospital, first_name="Florence", last_name="Lamp")
    stranger = make_user(Role.DOCTOR, username="care.stranger", hospital=hospital)
    pharmacist = make_user(Role.PHARMACIST, username="care.pharm", hospital=hospital)
    me = make_user(Role.PATIENT, username="ada.l")
    patient = PatientFactory(name="Ada Lovelace", user=me)
    for clinician in (doctor, nurse):
        grant_care_team(actor=admin, patient=patient, grantee=clinician)
    diagnosis = diagnosis_create(actor=doctor, patient=patient, code="J45", text="Asthma, mild intermittent")
    return {
        "hospital": hospital,
        "admin": admin,
        "doctor": doctor,
        "nurse": nurse,
        "stranger": stranger,
        "pharmacist": pharmacist,
        "me": me,
        "patient": patient,
        "diagnosis": diagnosis,
        "doctor_c": mfa_login(doctor, Client()),
        "nurse_c": mfa_login(nurse, Client()),
        "stranger_c": mfa_login(stranger, Client()),
        "patient_c": patient_login(me),
    }
