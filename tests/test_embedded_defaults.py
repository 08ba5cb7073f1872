"""The embedded default: SQLite writers serialize (IMMEDIATE), email goes to files in var/outbox/."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError

from hospital.db.backends.sqlite3.base import DatabaseWrapper
from hospital.settings.base import database_from_env

ROOT = Path(__file__).resolve().parent.parent


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path, monkeypatch, django_db_blocker):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings_dict = database_from_env("sqlite:///unused")
    assert settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    settings_dict.update({"TIME_ZONE": None, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True})
    settings_dict["OPTIONS"]["timeout"] = 0.2
    first, second = DatabaseWrapper(dict(settings_dict), "first"), DatabaseWrapper(dict(settings_dict), "second")
    with django_db_blocker.unblock():
        _check_second_writer_waits(first, second)


def test_sqlite_runs_in_wal_mode_and_checkpoints_every_ten_thousand_pages(tmp_path, monkeypatch, django_db_blocker):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    settings_dict = database_from_env("sqlite:///unused")
    settings_dict.update({"TIME_ZONE": None, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True})
    wrapper = DatabaseWrapper(settings_dict, "pragmas")
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as c:
                found = {}
                for pragma in ("journal_mode", "synchronous", "wal_autocheckpoint"):
                    c.execute(f"PRAGMA {pragma}")
                    found[pragma] = c.fetchone()[0]
        finally:
            wrapper.close()
    assert found == {"journal_mode": "wal", "synchronous": 1, "wal_autocheckpoint": 10_000}


def _check_second_writer_waits(first, second):
    try:
        with first.cursor() as c:
            c.execute("CREATE TABLE t (x integer)")
        first.ensure_connection()
        second.ensure_connection()
        # What transaction.atomic() does on SQLite: BEGIN <transaction_mode>.
        first._start_transaction_under_autocommit()
        with first.cursor() as c:
            c.execute("SELECT count(*) FROM t")  # a read: a DEFERRED transaction would hold no lock yet
        with pytest.raises(OperationalError, match="locked"):
            second._start_transaction_under_autocommit()
        first.commit()
        second._start_transaction_under_autocommit()  # free again once the first commits
        second.commit()
    finally:
        first.close()
        second.close()


def test_local_mode_writes_email_to_var_outbox(tmp_path):
    code = (
        "import django; django.setup();"
        "from django.conf import settings as s;"
        "print(s.EMAIL_BACKEND); print(s.EMAIL_FILE_PATH); print(s.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "hospital.settings.local"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert out == ["django.core.mail.backends.filebased.EmailBackend", str(ROOT / "var" / "outbox"), "True"]
