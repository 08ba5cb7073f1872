"""Text messages through a pluggable backend, in the manner of Django's email backends.

SMS_BACKEND names the class (dotted path); the default writes one file per message into
SMS_FILE_PATH. A gateway backend subclasses BaseSMSBackend and raises OSError (or a subclass,
such as ConnectionError) for failures worth retrying.
"""

import os
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "accounts.sms.FileBackend"


@dataclass(frozen=True)
class SMSMessage:
    to: str
    body: str


class BaseSMSBackend:
    def send(self, message: SMSMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseSMSBackend):
    """Writes each message to standard output (or the given stream)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, message: SMSMessage) -> None:
        with self._lock:
            self.stream.write(f"SMS to {message.to}\n{message.body}\n{'-' * 40}\n")
            self.stream.flush()


class FileBackend(BaseSMSBackend):
    """One file per message in SMS_FILE_PATH (created on first use, readable by its owner only)."""

    def __init__(self, file_path: str | os.PathLike | None = None):
        path = file_path or getattr(settings, "SMS_FILE_PATH", None)
        if not path:
            raise ImproperlyConfigured("The SMS file backend needs SMS_FILE_PATH.")
        self.path = Path(path)

    def send(self, message: SMSMessage) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.txt"
        # O_EXCL: never append to (or through a link into) an existing file.
        fd = os.open(self.path / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"To: {message.to}\n\n{message.body}\n")


# Messages sent through the locmem backend, for tests (like django.core.mail.outbox).
outbox: list[SMSMessage] = []


class LocMemBackend(BaseSMSBackend):
    def send(self, message: SMSMessage) -> None:
        outbox.append(message)


def get_backend(path: str | None = None, **kwargs) -> BaseSMSBackend:
    """An instance of SMS_BACKEND (or of the class at `path`)."""
    dotted = path or getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND)
    try:
        backend_class = import_string(dotted)
    except ImportError as exc:
        raise ImproperlyConfigured(f"SMS_BACKEND {dotted!r} cannot be imported.") from exc
    return backend_class(**kwargs)


def send_sms(to: str, body: str, *, backend: BaseSMSBackend | None = None) -> None:
    """Send one text message. Failures raise (OSError for transient ones); nothing is swallowed."""
    (backend or get_backend()).send(SMSMessage(to=to, body=body))
