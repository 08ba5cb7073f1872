"""Booking a bed through the pages in a real browser: a nurse opens her hospital's bed grid from the
board, books the free ICU bed with the booking form and sees it occupied; the next ICU booking is
refused on the form with a clear message, not an error page.

pytest-django's live server (WSGI) is enough: these pages need no WebSocket (the board's socket
just fails to connect, which is not what these tests look at).
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.roles import Role
from beds.models import Admission
from beds.services.availability import availability_refresh
from tests.browser.conftest import sign_in
from tests.factories import BedFactory, HospitalFactory, PatientFactory, WardFactory

pytestmark = [
    pytest.mark.browser,
    # The live server reads what the test writes, so the data must be committed.
    pytest.mark.django_db(transaction=True),
]


def bed_card(page: Page, bed):
    return page.locator(f'article.bed[data-bed="{bed.pk}"]')


def book(page: Page, *, mrn: str, kind: str, reason: str = "") -> None:
    """Open the booking form from the bed grid and send it."""
    page.get_by_role("link", name="Book or hold a bed").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Book or hold a bed at "))).to_be_visible()
    page.get_by_label("Action").select_option(label="Admit now")
    page.get_by_label("Medical record number").fill(mrn)
    page.get_by_label("Kind").select_option(label=kind)
    page.get_by_label("Priority").select_option(label="Emergency")
    page.get_by_label("Reason").fill(reason)
    page.get_by_role("button", name="Book").click()


def test_nurse_books_the_free_icu_bed_and_a_second_booking_is_refused_clearly(live_browser, make_user, enrol_totp):
    hospital = HospitalFactory(code="BKG", name="Booking Memorial", region="North")
    icu = BedFactory(ward=WardFactory(hospital=hospital, name="Intensive care"), label="BKG-I1", kind="icu")
    general = BedFactory(ward=WardFactory(hospital=hospital, name="General medicine"), label="BKG-G1")
    availability_refresh(hospital_id=hospital.pk)
    nurse = make_user(Role.NURSE, username="nurse.book", hospital=hospital)
    device = enrol_totp(nurse)
    first = PatientFactory(name="Cornelius Abernathy-Wolfe", mrn="MRN-BKG-0001")
    second = PatientFactory(name="Perpetua Lindqvist", mrn="MRN-BKG-0002")
    grid_url = reverse("beds:hospital", args=[hospital.pk])
    book_url = reverse("beds:book", args=[hospital.pk])

    page = live_browser.new_page()
    sign_in(page, "nurse.book", device=device, next_url=reverse("accounts:dashboard"))
    # From the menu to the board, then to the hospital's bed grid.
    page.locator("header nav").get_by_role("link", name="Beds", exact=True).click()
    expect(page.get_by_role("heading", name="Bed availability")).to_be_visible()
    board_row = page.locator(f'tr[data-hospital="{hospital.pk}"]')
    expect(board_row.locator('td[data-kind="icu"]')).to_have_text("1 / 1")
    board_row.get_by_role("link", name="Booking Memorial").click()
    expect(page).to_have_url(re.compile(re.escape(grid_url) + "$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Booking Memorial"))).to_be_visible()
    expect(bed_card(page, icu)).to_have_class(re.compile(r"\bstatus-available\b"))
    expect(bed_card(page, icu).locator("p").first).to_have_text("Available")

    book(page, mrn=first.mrn, kind="ICU", reason="Respiratory failure after pneumonia")
    expect(page).to_have_url(re.compile(re.escape(grid_url) + "$"))
    admission = Admission.objects.get(patient=first)
    assert (admission.bed_id, admission.status) == (icu.pk, "active")
    expect(page.locator("main ul.messages .msg-success")).to_have_text(f"Bed BKG-I1 booked (admission {admission.pk}).")
    expect(bed_card(page, icu)).to_have_class(re.compile(r"\bstatus-occupied\b"))
    expect(bed_card(page, icu).locator("p").first).to_have_text(f"Occupied · admission {admission.pk} (Emergency)")
    expect(bed_card(page, icu).get_by_role("button", name="Discharge")).to_be_visible()
    expect(bed_card(page, general)).to_have_class(re.compile(r"\bstatus-available\b"))
    expect(page.locator("main")).not_to_contain_text(first.name)  # the grid shows no patient data

    # No ICU bed is left (a general one is): the form says so, and nothing is booked.
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        book(page, mrn=second.mrn, kind="ICU")
    assert answer.value.status == 400
    expect(page).to_have_url(re.compile(re.escape(book_url) + "$"))
    expect(page.get_by_role("heading", name="Book or hold a bed at Booking Memorial")).to_be_visible()
    expect(page.locator("main .errors[role=alert]")).to_have_text("No ICU bed is free in Booking Memorial.")
    expect(page.get_by_label("Medical record number")).to_have_value(second.mrn)
    expect(page.locator("main")).not_to_contain_text("request id")  # the form, not an error page
    assert not Admission.objects.filter(patient=second).exists()
    assert Admission.objects.count() == 1

    # Back on the grid, the bed is still the first patient's; the board counts it taken.
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(grid_url) + "$"))
    expect(bed_card(page, icu).locator("p").first).to_have_text(f"Occupied · admission {admission.pk} (Emergency)")
    expect(bed_card(page, general)).to_have_class(re.compile(r"\bstatus-available\b"))
    page.get_by_role("link", name="« All hospitals").click()
    expect(board_row.locator('td[data-kind="icu"]')).to_have_text("0 / 1")
    expect(board_row.locator('td[data-kind="general"]')).to_have_text("1 / 1")

    live_browser.assert_no_csp_violations()
