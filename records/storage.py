"""File storage that encrypts on write and decrypts on read, with the keys of FERNET_KEYS."""

import os
import uuid

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from fernet_fields.hkdf import derive_fernet_key


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(derive_fernet_key(k)) for k in settings.FERNET_KEYS])


class EncryptedFileSystemStorage(FileSystemStorage):
    """Bytes on disk are a Fernet token; names are random, so no patient data reaches a file name."""

    def get_available_name(self, name, max_length=None):
        # Under MEDIA_ROOT (read when used, so settings changes apply), random, no extension.
        return super().get_available_name(f"documents/{uuid.uuid4().hex}.bin", max_length=max_length)

    def _save(self, name, content):
        content.seek(0)
        token = _fernet().encrypt(content.read())
        return super()._save(name, ContentFile(token))

    def read_decrypted(self, name: str) -> bytes:
        with super()._open(name, "rb") as fh:
            return _fernet().decrypt(fh.read())

    def url(self, name):
        raise ValueError("Encrypted documents have no public URL; they are served through a permission check.")


def document_storage():
    return EncryptedFileSystemStorage()


def reencrypt(name: str) -> None:
    """Rewrite one stored file under the newest key (MultiFernet.rotate keeps the token's timestamp)."""
    storage = EncryptedFileSystemStorage()
    path = storage.path(name)
    with open(path, "rb") as fh:
        token = fh.read()
    rotated = _fernet().rotate(token)
    tmp = f"{path}.rotating"
    with open(tmp, "wb") as fh:
        fh.write(rotated)
    os.replace(tmp, path)  # atomic: the file is readable under one key or the other at every moment
