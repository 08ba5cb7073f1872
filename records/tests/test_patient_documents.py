"""The patient uploads documents to their own record from "my record" and downloads their own, through
the same service (and so the same checks) as a clinician's upload."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from records.models import Document
from tests.factories import PatientFactory

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"My own referral letter" * 10
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(c, name, data, title="Referral letter"):
    return c.post(
        reverse("records:my_document_upload"), {"title": title, "file": SimpleUploadedFile(name, data)}, follow=True
    )


@pytest.mark.django_db
def test_the_patient_uploads_and_downloads_their_own_document(care, media):
    r = upload(care["patient_c"], "referral.pdf", PDF)
    assert r.status_code == 200 and b"Document stored" in r.content
    document = Document.objects.get()
    assert document.patient == care["patient"] and document.uploaded_by == care["me"]
    assert b"My own referral" not in (media / document.file.name).read_bytes()
    page = care["patient_c"].get(reverse("records:my_record")).content.decode()
    assert "Referral letter" in page and reverse("records:document", args=[document.pk]) in page
    r = care["patient_c"].get(reverse("records:document", args=[document.pk]))
    assert r.status_code == 200 and r.content == PDF and "attachment" in r["Content-Disposition"]
    assert AuditEvent.objects.filter(
        action="export", category="document", patient_id=care["patient"].pk, actor_name="ada.l"
    ).exists()
    # The care team sees it on the chart and can open it too.
    assert care["doctor_c"].get(reverse("records:document", args=[document.pk])).content == PDF


@pytest.mark.django_db
def test_documents_from_the_care_team_are_listed_for_the_patient(care, media):
    care["doctor_c"].post(
        reverse("records:document_upload", args=[care["patient"].pk]),
        {"title": "Discharge summary", "file": SimpleUploadedFile("scan.jpg", JPEG)},
    )
    page = care["patient_c"].get(reverse("records:my_record")).content.decode()
    assert "Discharge summary" in page and "added by me" not in page
    document = Document.objects.get()
    assert care["patient_c"].get(reverse("records:document", args=[document.pk])).content == JPEG


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "title", "message"),
    [
        ("letter.pdf", b"MZ\x90\x00 an executable", "Letter", b"Only PDF, PNG and JPEG"),
        ("photo.png", JPEG, "Photo", b"does not match its content"),
        ("empty.pdf", b"", "Empty", b"Choose a file"),
        ("letter.pdf", PDF, "", b"Give the document a title"),
        ("big.pdf", b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024), "Big", b"at most 10 MB"),
    ],
)
def test_bad_files_are_refused_with_the_same_messages(care, media, name, data, title, message):
    r = upload(care["patient_c"], name, data, title=title)
    assert r.status_code == 200 and message in r.content
    assert not Document.objects.exists() and not list(media.rglob("*.bin"))


@pytest.mark.django_db
def test_no_file_at_all_is_a_message_not_an_error(care, media):
    r = care["patient_c"].post(reverse("records:my_document_upload"), {"title": "Nothing"}, follow=True)
    assert r.status_code == 200 and b"Choose a file" in r.content


@pytest.mark.django_db
def test_nobody_else_reads_or_adds_to_a_patients_documents_through_the_portal(care, media, make_user, patient_login):
    upload(care["patient_c"], "referral.pdf", PDF)
    document = Document.objects.get()
    other_user = make_user(Role.PATIENT, username="other.doc")
    PatientFactory(user=other_user)
    other = patient_login(other_user)
    assert other.get(reverse("records:document", args=[document.pk])).status_code == 403
    assert "Referral letter" not in other.get(reverse("records:my_record")).content.decode()
    upload(other, "mine.pdf", PDF)
    assert Document.objects.filter(patient=care["patient"]).count() == 1
    assert care["stranger_c"].get(reverse("records:document", args=[document.pk])).status_code == 403
    r = care["doctor_c"].post(
        reverse("records:my_document_upload"), {"title": "x", "file": SimpleUploadedFile("a.pdf", PDF)}
    )
    assert r.status_code == 403 and Document.objects.count() == 2


@pytest.mark.django_db
def test_my_record_costs_the_same_queries_for_one_or_many_documents(care, media, django_assert_num_queries):
    from django.db import connection

    url = reverse("records:my_record")
    upload(care["patient_c"], "one.pdf", PDF)
    care["patient_c"].get(url)
    with CaptureQueriesContext(connection) as ctx:
        care["patient_c"].get(url)
    one = len(ctx.captured_queries)
    for i in range(10):
        upload(care["patient_c"], f"doc{i}.pdf", PDF, title=f"Letter {i}")
    with django_assert_num_queries(one):
        page = care["patient_c"].get(url)
    assert page.content.decode().count("added by me") == 11
