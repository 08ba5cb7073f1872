"""Clinical records in a real browser: find a patient and read the chart, write to it, and the
patient's amendment request accepted by the doctor, each through the pages as a user would.

The data the flows start from is written with the services before the browser starts (the
browser starts with the first page); everything after that goes through the UI. The ORM is read
afterwards only to check what was (not) stored.
"""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.roles import Role
from records.models import Amendment, ClinicalNote, Diagnosis
from records.services import diagnosis_create, grant_care_team
from tests.browser.conftest import sign_in
from tests.factories import HospitalFactory, PatientFactory

pytestmark = [
    pytest.mark.browser,
    # The live server reads what the test writes, so the data must be committed.
    pytest.mark.django_db(transaction=True),
]

PATIENT_NAME = "Wilhelmina Oyelaran-Fitzgerald"
MRN = "MRN-REC-0001"
DIAGNOSIS_CODE = "J45.9"
DIAGNOSIS_TEXT = "Asthma, unspecified; wheeze on exertion since childhood"


def chart_url(patient) -> str:
    return reverse("records:chart", args=[patient.pk])


def flash(page: Page):
    """The messages the page shows after a redirect (role=status)."""
    return page.locator("main ul.messages")


def diagnosis_rows(page: Page):
    return page.locator("table", has=page.get_by_role("columnheader", name="Diagnosis")).locator("tbody tr")


def notes_list(page: Page):
    return page.locator("h2:text-is('Clinical notes') + ul > li")


@pytest.fixture
def care_team(make_user, enrol_totp):
    """One hospital: its admin put a doctor on the care team of a patient with a diagnosis; another
    doctor of the same hospital has no grant. Both doctors have an authenticator."""
    hospital = HospitalFactory(code="REC", name="Records General")
    admin = make_user(Role.HOSPITAL_ADMIN, username="rec.admin", hospital=hospital)
    doctor = make_user(Role.DOCTOR, username="dr.chart", hospital=hospital, first_name="Gregory", last_name="Mind")
    stranger = make_user(Role.DOCTOR, username="dr.stranger", hospital=hospital)
    patient = PatientFactory(name=PATIENT_NAME, mrn=MRN)
    # Another patient on the doctor's care team: the name search must not list them.
    other = PatientFactory(name="Bartholomew Quince", mrn="MRN-REC-0002")
    for person in (patient, other):
        grant_care_team(actor=admin, patient=person, grantee=doctor)
    diagnosis_create(actor=doctor, patient=patient, code=DIAGNOSIS_CODE, text=DIAGNOSIS_TEXT)
    return {
        "hospital": hospital,
        "doctor": doctor,
        "doctor_device": enrol_totp(doctor),
        "stranger": stranger,
        "stranger_device": enrol_totp(stranger),
        "patient": patient,
        "other": other,
    }


def test_csp_watch_reports_a_violation(live_browser):
    """The CSP check of the other tests would see a violation: an inline style is refused and reported."""
    page = live_browser.new_page()
    page.goto(reverse("accounts:login"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    live_browser.assert_no_csp_violations()
    # Both reports arrive: the browser's own console line, then the page's securitypolicyviolation event.
    with page.expect_console_message(lambda message: "violation (event): style-src" in message.text):
        page.evaluate("document.head.appendChild(document.createElement('style')).textContent = 'body {}'")
    reported = live_browser.csp_violations
    assert any("violates the following Content Security Policy directive 'style-src" in r for r in reported), reported
    with pytest.raises(AssertionError, match="CSP violations"):
        live_browser.assert_no_csp_violations()


def test_doctor_finds_the_patient_by_name_and_reads_the_chart(live_browser, care_team):
    patient = care_team["patient"]

    page = live_browser.new_page()
    sign_in(page, "dr.chart", device=care_team["doctor_device"], next_url=reverse("accounts:dashboard"))

    # The menu's patient search; the name typed as a person would, in other case and spacing.
    page.locator("header nav").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Find a patient")).to_be_visible()
    page.get_by_label("Record number, full name, or phone number").fill("  wilhelmina   OYELARAN-fitzgerald ")
    page.get_by_role("button", name="Search").click()

    results = page.locator("main ul:not(.messages) > li")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(PATIENT_NAME)
    expect(page.locator("main")).not_to_contain_text("Bartholomew Quince")
    results.first.get_by_role("link", name=MRN).click()

    expect(page).to_have_url(re.compile(re.escape(chart_url(patient)) + "$"))
    expect(page.get_by_role("heading", name=f"Patient {MRN}")).to_be_visible()
    expect(page.locator("dt:text-is('Name') + dd")).to_have_text(PATIENT_NAME)
    rows = diagnosis_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(1)).to_have_text(DIAGNOSIS_CODE)
    expect(rows.first.locator("td").nth(2)).to_have_text(DIAGNOSIS_TEXT)  # decrypted, digest checked
    expect(rows.first.locator("td").nth(3)).to_have_text("dr.chart")
    expect(page.locator("main .error")).to_have_count(0)  # no integrity error on any record

    # A doctor of the same hospital without a grant: the same chart URL is refused, emergency
    # access is offered, and nothing of the record is shown.
    other_page = live_browser.new_page()
    sign_in(other_page, "dr.stranger", device=care_team["stranger_device"], next_url=reverse("records:search"))
    other_page.get_by_label("Record number, full name, or phone number").fill(PATIENT_NAME)
    other_page.get_by_role("button", name="Search").click()
    expect(other_page.locator("main")).to_contain_text("No patient you have access to has this name.")
    expect(other_page.get_by_role("link", name=MRN)).to_have_count(0)

    response = other_page.goto(chart_url(patient))
    assert response is not None and response.status == 403
    expect(other_page.get_by_role("heading", name="No access to this record")).to_be_visible()
    expect(other_page.get_by_role("heading", name="Emergency access")).to_be_visible()
    expect(other_page.get_by_label("Why do you need this record now?")).to_be_visible()
    expect(other_page.get_by_role("button", name="Open the record in an emergency")).to_be_enabled()
    body = other_page.locator("body")
    for secret in (DIAGNOSIS_TEXT, DIAGNOSIS_CODE, PATIENT_NAME):
        expect(body).not_to_contain_text(secret)

    live_browser.assert_no_csp_violations()


def test_doctor_writes_a_note_and_a_diagnosis_and_empty_text_is_refused(live_browser, care_team):
    patient = care_team["patient"]
    page = live_browser.new_page()
    sign_in(page, "dr.chart", device=care_team["doctor_device"], next_url=chart_url(patient))
    expect(notes_list(page)).to_have_text(["No note."])
    note_field = page.get_by_label("Note", exact=True)
    add_note = page.get_by_role("button", name="Add note")

    # Empty: the browser keeps the form (the field is required) and nothing is sent.
    add_note.click()
    assert note_field.evaluate("field => field.validity.valueMissing") is True
    assert note_field.evaluate("field => field.validationMessage")
    expect(flash(page)).to_have_count(0)
    # Blank (spaces pass the browser's check): the server refuses it with the form's error.
    note_field.fill("    ")
    add_note.click()
    expect(page).to_have_url(re.compile(re.escape(chart_url(patient)) + "$"))
    expect(flash(page).locator(".msg-error")).to_have_text("Write the note.")
    expect(notes_list(page)).to_have_text(["No note."])
    assert not ClinicalNote.objects.filter(patient=patient).exists()

    note = "Reviewed inhaler technique; peak flow 420 L/min, no nocturnal symptoms."
    page.get_by_label("Note", exact=True).fill(note)
    page.get_by_role("button", name="Add note").click()
    expect(page).to_have_url(re.compile(re.escape(chart_url(patient)) + "$"))
    expect(flash(page).locator(".msg-success")).to_have_text("Added to the record.")
    expect(notes_list(page)).to_have_count(1)
    expect(notes_list(page).first).to_contain_text(note)
    expect(notes_list(page).first).to_contain_text("dr.chart")
    assert [n.text for n in ClinicalNote.objects.filter(patient=patient)] == [note]

    # A diagnosis: the code is stored in capitals; blank text is refused by the server.
    page.get_by_label("Code", exact=True).fill("e11.9")
    page.get_by_label("Diagnosis", exact=True).fill("   ")
    page.get_by_role("button", name="Add diagnosis").click()
    expect(flash(page).locator(".msg-error")).to_have_text("Give the code and the diagnosis text.")
    expect(diagnosis_rows(page)).to_have_count(1)
    assert Diagnosis.objects.filter(patient=patient).count() == 1

    page.get_by_label("Code", exact=True).fill("e11.9")
    page.get_by_label("Diagnosis", exact=True).fill("Type 2 diabetes mellitus without complications")
    page.get_by_role("button", name="Add diagnosis").click()
    expect(flash(page).locator(".msg-success")).to_have_text("Diagnosis added.")
    rows = diagnosis_rows(page)
    expect(rows).to_have_count(2)
    added = rows.filter(has_text="E11.9")
    expect(added).to_have_count(1)
    expect(added.locator("td").nth(2)).to_have_text("Type 2 diabetes mellitus without complications")
    expect(rows.filter(has_text=DIAGNOSIS_TEXT)).to_have_count(1)
    assert Diagnosis.objects.filter(patient=patient).count() == 2

    live_browser.assert_no_csp_violations()


def test_patient_requests_an_amendment_the_doctor_accepts_it_and_the_patient_sees_it(
    live_browser, make_user, enrol_totp
):
    hospital = HospitalFactory(code="AMD", name="Amendment Infirmary")
    admin = make_user(Role.HOSPITAL_ADMIN, username="amd.admin", hospital=hospital)
    doctor = make_user(Role.DOCTOR, username="dr.amend", hospital=hospital)
    device = enrol_totp(doctor)
    me = make_user(Role.PATIENT, username="pat.amend")  # a patient: no second factor unless enrolled
    patient = PatientFactory(name="Ignatius Featherstonehaugh", mrn="MRN-AMD-0001", user=me)
    grant_care_team(actor=admin, patient=patient, grantee=doctor)
    diagnosis = diagnosis_create(actor=doctor, patient=patient, code="J45", text="Asthma, mild intermittent")
    label = f"Diagnosis J45 of {timezone.localtime(diagnosis.created_at):%Y-%m-%d}"
    request_text = "The asthma was ruled out by spirometry in 2021; please correct the diagnosis."

    # The patient signs in (password only) and opens their page from the menu.
    mine = live_browser.new_page()
    sign_in(mine, "pat.amend", next_url=reverse("accounts:dashboard"))
    mine.locator("header nav").get_by_role("link", name="My record").click()
    expect(mine.get_by_role("heading", name="My record (MRN-AMD-0001)")).to_be_visible()
    requests = mine.locator("table", has=mine.get_by_role("columnheader", name="About")).locator("tbody tr")
    expect(requests).to_have_text(["None yet."])

    # An empty request is refused and nothing is stored.
    mine.get_by_label("Which part of my record").select_option(label=label)
    mine.get_by_role("button", name="Request amendment").click()
    expect(flash(mine).locator(".msg-error")).to_have_text("Say what should be amended and why.")
    expect(requests).to_have_text(["None yet."])
    assert not Amendment.objects.exists()

    mine.get_by_label("Which part of my record").select_option(label=label)
    mine.get_by_label("What should be amended, and why").fill(request_text)
    mine.get_by_role("button", name="Request amendment").click()
    expect(mine).to_have_url(re.compile(re.escape(reverse("records:my_record")) + "$"))
    expect(flash(mine).locator(".msg-success")).to_contain_text("Amendment requested.")
    expect(requests).to_have_count(1)
    expect(requests.first).to_contain_text(label)
    expect(requests.first).to_contain_text(request_text)
    expect(requests.first.locator("td").last).to_have_text("Requested")

    # The doctor, in another browser context, accepts it on the chart.
    chart = live_browser.new_page()
    sign_in(chart, "dr.amend", device=device, next_url=chart_url(patient))
    pending = chart.locator("h2:text-is('Amendment requests') ~ section.card")
    expect(pending).to_have_count(1)
    expect(pending.first.locator("p.muted")).to_contain_text(re.compile(r"by the patient · about: Diagnosis J45$"))
    expect(pending.first).to_contain_text(request_text)
    expect(chart.locator("main")).not_to_contain_text("Amended by patient request")
    pending.first.get_by_role("button", name="Accept").click()
    expect(chart).to_have_url(re.compile(re.escape(chart_url(patient)) + "$"))
    expect(flash(chart).locator(".msg-success")).to_have_text("Amendment accepted.")
    expect(chart.locator("main")).to_contain_text("No amendment request is waiting.")
    today = f"{timezone.localtime():%Y-%m-%d}"
    # Shown with the diagnosis it amends, on the row after it.
    amended = diagnosis_rows(chart).filter(has_text="Amended by patient request")
    expect(amended).to_have_count(1)
    expect(amended).to_have_text(f"Amended by patient request on {today}: {request_text}")

    # Back on the patient's page: the request is accepted and the amendment shown.
    mine.locator("header nav").get_by_role("link", name="My record").click()
    expect(requests).to_have_count(1)
    expect(requests.first).to_contain_text(f"Amended by patient request on {today}: {request_text}")
    expect(requests.first.locator("td").last).to_have_text(f"Accepted {today}")
    # And on their own chart, under the diagnosis.
    mine.get_by_role("link", name="See my record").click()
    expect(mine.get_by_role("heading", name="Patient MRN-AMD-0001")).to_be_visible()
    expect(diagnosis_rows(mine).filter(has_text="Amended by patient request")).to_have_text(
        f"Amended by patient request on {today}: {request_text}"
    )

    amendment = Amendment.objects.get()
    assert (amendment.status, amendment.decided_by_id, amendment.target) == ("accepted", doctor.pk, diagnosis)
    live_browser.assert_no_csp_violations()
