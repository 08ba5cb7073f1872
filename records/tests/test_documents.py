"""Documents: encrypted on disk, typed by content, 10 MB at most, digest checked on download."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from records.models import Document
from records.services import grant_care_team
from tests.factories import HospitalFactory, PatientFactory

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"Confidential discharge letter" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def setup(make_user, mfa_login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    hospital = HospitalFactory(code="DOC")
    admin = make_user(Role.HOSPITAL_ADMIN, username="doc.admin", hospital=hospital)
    doctor = make_user(Role.DOCTOR, username="doc.doctor", hospital=hospital)
    stranger = make_user(Role.DOCTOR, username="doc.stranger", hospital=hospital)
    patient = PatientFactory()
    grant_care_team(actor=admin, patient=patient, grantee=doctor)
    return {
        "patient": patient,
        "doctor": mfa_login(doctor, Client()),
        "stranger": mfa_login(stranger, Client()),
        "root": tmp_path,
    }


def upload(client, patient, name, data, title="Discharge letter"):
    return client.post(
        reverse("records:document_upload", args=[patient.pk]),
        {"title": title, "file": SimpleUploadedFile(name, data)},
        follow=True,
    )


@pytest.mark.django_db
def test_upload_is_encrypted_on_disk_and_downloads_intact(setup):
    r = upload(setup["doctor"], setup["patient"], "letter.pdf", PDF)
    assert b"Document stored" in r.content
    document = Document.objects.get()
    on_disk = (setup["root"] / document.file.name).read_bytes()
    assert b"Confidential" not in on_disk and b"%PDF" not in on_disk
    assert "letter" not in document.file.name and document.content_type == "application/pdf"
    r = setup["doctor"].get(reverse("records:document", args=[document.pk]))
    assert r.status_code == 200 and r.content == PDF and r["Content-Type"] == "application/pdf"
    assert "attachment" in r["Content-Disposition"]
    assert AuditEvent.objects.filter(action="export", category="document", patient_id=setup["patient"].pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("letter.pdf", b"MZ\x90\x00 this is really an executable", b"Only PDF, PNG and JPEG"),
        ("scan.pdf", PNG, b"does not match its content"),
        ("empty.pdf", b"", b"Choose a file"),
    ],
)
def test_bad_files_are_refused_with_a_message(setup, name, data, message):
    r = upload(setup["doctor"], setup["patient"], name, data)
    assert message in r.content
    assert not Document.objects.exists()
    assert not list((setup["root"]).rglob("*.bin"))


@pytest.mark.django_db
def test_files_over_10_mb_are_refused(setup):
    big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024)
    r = upload(setup["doctor"], setup["patient"], "big.pdf", big)
    assert b"at most 10 MB" in r.content and not Document.objects.exists()


@pytest.mark.django_db
def test_no_access_no_upload_no_download(setup):
    upload(setup["doctor"], setup["patient"], "scan.png", PNG)
    document = Document.objects.get()
    assert setup["stranger"].get(reverse("records:document", args=[document.pk])).status_code == 403
    r = upload(setup["stranger"], setup["patient"], "x.png", PNG)
    assert b"cannot add documents" in r.content and Document.objects.count() == 1


@pytest.mark.django_db
def test_a_file_changed_on_disk_is_an_integrity_error(setup):
    upload(setup["doctor"], setup["patient"], "scan.png", PNG)
    document = Document.objects.get()
    path = setup["root"] / document.file.name
    path.write_bytes(path.read_bytes()[:-4] + b"AAAA")
    r = setup["doctor"].get(reverse("records:document", args=[document.pk]))
    assert r.status_code == 409 and b"integrity check" in r.content
    assert AuditEvent.objects.filter(category="document", outcome="denied").exists()


def test_sniffing_is_by_content(tmp_path):
    from records.services import PatientError, sniff_document

    assert sniff_document(b"\xff\xd8\xff\xe0....", "photo.JPG") == "image/jpeg"
    with pytest.raises(PatientError):
        sniff_document(b"GIF89a", "x.gif")


@pytest.mark.django_db
def test_rotate_keys_reencrypts_documents_too(setup, settings):
    import secrets

    from cryptography.fernet import InvalidToken
    from django.core.management import call_command

    from records.storage import EncryptedFileSystemStorage

    settings.BASE_DIR = setup["root"]
    upload(setup["doctor"], setup["patient"], "letter.pdf", PDF)
    document = Document.objects.get()
    old, new = settings.FERNET_KEYS[0], secrets.token_urlsafe(32)
    settings.FERNET_KEYS = [new, old]
    out = __import__("io").StringIO()
    call_command("rotate_keys", stdout=out)
    assert "records.Document files" in out.getvalue()
    settings.FERNET_KEYS = [new]
    assert EncryptedFileSystemStorage().read_decrypted(document.file.name) == PDF
    assert setup["doctor"].get(reverse("records:document", args=[document.pk])).content == PDF
    settings.FERNET_KEYS = [old]
    with pytest.raises(InvalidToken):
        EncryptedFileSystemStorage().read_decrypted(document.file.name)
