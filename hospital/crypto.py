"""Encryption keys in one place: Fernet caches, the blind index, and which fields are encrypted."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from django.apps import apps
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models

_CACHED = ("keys", "fernet_keys", "fernet")


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    from fernet_fields import EncryptedField

    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]


def models_with_encrypted_fields() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if encrypted_fields(m)]


def reset_fernet_caches(**kwargs) -> None:
    """fernet_fields caches the keys on each field; forget them after FERNET_KEYS changes."""
    for model in models_with_encrypted_fields():
        for field in encrypted_fields(model):
            for name in _CACHED:
                field.__dict__.pop(name, None)


def on_setting_changed(sender, setting, **kwargs) -> None:
    if setting == "FERNET_KEYS":
        reset_fernet_caches()


setting_changed.connect(on_setting_changed, dispatch_uid="hospital.crypto.fernet_keys")


def normalize_for_index(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").casefold()
    return " ".join(text.split())


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC of the normalized value: equality search without decrypting or storing the value."""
    key = f"{purpose}:{settings.BLIND_INDEX_KEY}".encode()
    return hmac.new(key, normalize_for_index(value).encode(), hashlib.sha256).hexdigest()
