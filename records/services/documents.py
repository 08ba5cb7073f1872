"""Documents: uploads checked by their content's signature, stored encrypted with their SHA-256,
and read back only when they still match it."""

from django.db import transaction

from accounts.models import User

from ..models import Patient
from .common import PatientError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


_SIGNATURES = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
)


def sniff_document(head: bytes, filename: str) -> str:
    """The content type by the file's first bytes, which must agree with its name."""
    name = (filename or "").lower()
    for magic, content_type, suffixes in _SIGNATURES:
        if head.startswith(magic):
            if not name.endswith(suffixes):
                raise PatientError("The file's name does not match its content.")
            return content_type
    raise PatientError("Only PDF, PNG and JPEG files can be uploaded.")


@transaction.atomic
def document_upload(*, actor: User, patient: Patient, upload, title: str):
    """Store a document encrypted, with the SHA-256 of its content. Clinicians with full access or the
    patient themself may upload."""
    import hashlib

    from ..models import Document
    from ..permissions import record_parts

    if "diagnoses" not in record_parts(user=actor, patient=patient):
        raise PatientError("You cannot add documents to this record.")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise PatientError("Give the document a title (up to 200 characters).")
    if upload is None or upload.size == 0:
        raise PatientError("Choose a file.")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise PatientError("Files can be at most 10 MB.")
    data = upload.read()
    content_type = sniff_document(data[:16], upload.name)
    document = Document(
        patient=patient,
        title=title,
        content_type=content_type,
        size=len(data),
        digest=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    from django.core.files.base import ContentFile

    document.file.save("upload", ContentFile(data), save=False)
    # The file is written before the row; if the transaction fails, remove it again.
    stored = document.file.name
    try:
        document.save()
    except Exception:
        document.file.storage.delete(stored)  # no orphan encrypted file when the row is not written
        raise
    return document


def document_read(*, actor: User, document_id: int):
    """(document, bytes) if `actor` may read it and it passes its digest check."""
    import hashlib

    from cryptography.fernet import InvalidToken

    from ..models import Document
    from ..permissions import record_parts

    document = Document.objects.select_related("patient").filter(pk=document_id).first()
    if document is None:
        return None, None
    if "diagnoses" not in record_parts(user=actor, patient=document.patient):
        raise PermissionError("no access")
    try:
        data = document.file.storage.read_decrypted(document.file.name)
    except (InvalidToken, OSError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != document.digest:
        raise PatientError(f"Document #{document.pk} failed its integrity check and cannot be opened.")
    return document, data
