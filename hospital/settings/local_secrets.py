"""Secrets for the embedded local mode, generated on first start.

Values in the environment win. Missing ones are generated once into
``var/local-secrets.json`` (mode 0600) so that restarts keep sessions valid and
encrypted data readable. Production never uses this module.
"""

import json
import os
import secrets
from pathlib import Path

SECRET_NAMES = ("SECRET_KEY", "FERNET_KEYS", "BLIND_INDEX_KEY")


def _generate() -> dict:
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "FERNET_KEYS": [secrets.token_urlsafe(32)],
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


def load_or_create(var_dir: Path) -> dict:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "local-secrets.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with path.open() as fh:
            return json.load(fh)
    values = _generate()
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values
