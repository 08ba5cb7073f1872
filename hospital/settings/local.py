"""Embedded local mode: SQLite in var/, eager Celery, email to var/outbox/, generated secrets."""

from .base import *  # noqa: F403
from .base import VAR_DIR, databases_from_env, env
from .local_secrets import load_or_create

_generated = load_or_create(VAR_DIR)

SECRET_KEY = env.str("SECRET_KEY", default=_generated["SECRET_KEY"])
FERNET_KEYS = env.list("FERNET_KEYS", default=_generated["FERNET_KEYS"])
BLIND_INDEX_KEY = env.str("BLIND_INDEX_KEY", default=_generated["BLIND_INDEX_KEY"])

DATABASES = databases_from_env("sqlite:///var/db.sqlite3")

# Serve static files straight from the source folders: no collectstatic step locally.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
