"""Production refuses to start without its secrets; check --deploy is clean; seed_demo is idempotent."""

import io
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Hospital, User
from accounts.roles import Role

ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="hospital.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        FERNET_KEYS=secrets.token_urlsafe(32),
        BLIND_INDEX_KEY=secrets.token_urlsafe(32),
        DATABASE_URL="sqlite:////tmp/unused-production-check.sqlite3",
        ALLOWED_HOSTS="hospital.example.org",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        CHANNEL_LAYER_URL="redis://127.0.0.1:6379/1",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS", "DATABASE_URL", "ALLOWED_HOSTS", "BLIND_INDEX_KEY"])
def test_production_refuses_to_start_without(missing):
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_a_broker():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(CELERY_BROKER_URL=None))
    assert result.returncode != 0 and "hospital.W001" in result.stderr


def test_check_deploy_warns_when_a_worker_could_not_reach_the_live_boards():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(CHANNEL_LAYER_URL=None))
    assert result.returncode != 0 and "hospital.W002" in result.stderr


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_writes_private_credentials(tmp_path, settings, capsys):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo")
    first = capsys.readouterr().out
    creds = tmp_path / "var" / "demo-credentials.txt"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    lines = [line.split() for line in creds.read_text().splitlines() if not line.startswith("#")]
    assert {role for role, _, _ in lines} == {r.value for r in Role}
    for role, username, password in lines:
        user = User.objects.get(username=username)
        assert user.check_password(password) and user.has_role(role)
        assert password in first
    users, hospitals = User.objects.count(), Hospital.objects.count()

    call_command("seed_demo")
    assert (User.objects.count(), Hospital.objects.count()) == (users, hospitals)
    assert [line.split() for line in creds.read_text().splitlines() if not line.startswith("#")] == lines


@pytest.mark.django_db
def test_seed_demo_passwords_are_random_per_machine(tmp_path, settings):
    settings.BASE_DIR = tmp_path / "a"
    call_command("seed_demo", stdout=io.StringIO())
    a = (tmp_path / "a" / "var" / "demo-credentials.txt").read_text()
    # Another machine: no credentials file, so every demo password is drawn afresh.
    settings.BASE_DIR = tmp_path / "b"
    call_command("seed_demo", stdout=io.StringIO())
    b = (tmp_path / "b" / "var" / "demo-credentials.txt").read_text()
    assert a != b


def test_local_secrets_are_generated_once_with_mode_0600(tmp_path):
    from hospital.settings.local_secrets import load_or_create

    first = load_or_create(tmp_path)
    assert stat.S_IMODE((tmp_path / "local-secrets.json").stat().st_mode) == 0o600
    assert load_or_create(tmp_path) == first
    assert first["SECRET_KEY"] not in first["FERNET_KEYS"]


@pytest.mark.django_db
def test_seed_demo_gives_a_new_user_wards_beds_and_a_live_board(tmp_path, settings, django_capture_on_commit_callbacks):
    from beds.models import Admission, Availability, Bed

    settings.BASE_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert Bed.objects.count() == 3 * (8 + 4 + 6 + 20)
    assert Admission.objects.filter(status="active").count() == 3
    assert Admission.objects.filter(status="held").count() == 1
    icu = Availability.objects.get(hospital__code="CGH", kind="icu")
    assert (icu.free, icu.total) == (5, 8)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert Bed.objects.count() == 3 * 38 and Admission.objects.count() == 4
