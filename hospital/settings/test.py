"""Test settings: the suite runs on SQLite by default and on DATABASE_URL when it is set."""

import secrets

from .base import *  # noqa: F403
from .base import SQLITE_ENGINE, VAR_DIR, databases_from_env, env

# Random per run unless given (a worker process started by a test receives them).
SECRET_KEY = env.str("SECRET_KEY", default="") or secrets.token_urlsafe(64)
FERNET_KEYS = env.list("FERNET_KEYS", default=[]) or [secrets.token_urlsafe(32)]
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default="") or secrets.token_urlsafe(32)

DATABASES = databases_from_env("sqlite:///:memory:")
if DATABASES.get("replica", {}).get("ENGINE") == SQLITE_ENGINE:
    # The replica mirrors the in-memory test database, shared between connections in SQLite's
    # shared-cache mode, where reading takes table locks: without this, the replica's reads (and
    # the constraint check a test case runs on every alias) wait on the test's open transaction.
    DATABASES["replica"]["OPTIONS"]["init_command"] += " PRAGMA read_uncommitted=ON;"

# Argon2 stays first in base settings; tests hash thousands of passwords, so use a fast
# hasher here. Argon2 is kept in the list so hashes of it still verify.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# A worker process started by the broker tests writes its email to files the test reads.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "test-outbox"))
SMS_BACKEND = env.str("SMS_BACKEND", default="accounts.sms.LocMemBackend")
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(VAR_DIR / "test-sms-outbox"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_TASK_ALWAYS_EAGER = env.str("CELERY_BROKER_URL", default="") == ""
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
