"""Turning auditing off is itself recorded; tasks and commands act as themselves."""

import pytest
from django.core.checks import run_checks
from django.core.management import call_command

from accounts.models import Hospital
from audit.models import AuditEvent, AuditState
from audit.services import audit_event_record, audit_state_sync
from hospital import context
from hospital.tasks import task_context


@pytest.mark.django_db
def test_switching_auditing_off_and_on_is_recorded(settings):
    assert audit_state_sync() is False  # first start with auditing on: nothing to say
    settings.AUDIT_ENABLED = False
    assert audit_state_sync() is True
    off = AuditEvent.objects.filter(action="audit_settings_changed").latest("id")
    assert off.changes == {"AUDIT_ENABLED": {"old": "True", "new": "False"}}
    assert AuditState.objects.get().enabled is False
    before = AuditEvent.objects.count()
    Hospital.objects.create(code="OFF", name="Unaudited", region="R")
    assert AuditEvent.objects.count() == before, "with auditing off, writes leave no rows"
    assert audit_state_sync() is False
    settings.AUDIT_ENABLED = True
    assert audit_state_sync() is True
    assert AuditEvent.objects.filter(action="audit_settings_changed").count() == 2


@pytest.mark.django_db
def test_first_request_after_a_switch_records_it(client, settings):
    from audit import receivers

    audit_state_sync()
    settings.AUDIT_ENABLED = False
    receivers._state_checked = False
    client.get("/healthz")
    assert AuditEvent.objects.filter(action="audit_settings_changed").exists()


def test_deploy_check_warns_when_auditing_is_off(settings):
    settings.AUDIT_ENABLED = False
    ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "audit.W001" in ids
    settings.AUDIT_ENABLED = True
    assert "audit.W001" not in [m.id for m in run_checks(include_deployment_checks=True)]


@pytest.mark.django_db
def test_a_task_records_itself_as_the_actor():
    with task_context("beds.release_expired_holds"):
        Hospital.objects.create(code="TSK", name="Task made", region="R")
    row = AuditEvent.objects.get(action="create", object_label="hospital TSK")
    assert row.actor_id is None and row.actor_name == "task:beds.release_expired_holds"


@pytest.mark.django_db
def test_a_command_records_itself_as_the_actor(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", stdout=__import__("io").StringIO())
    rows = AuditEvent.objects.filter(action="create", object_label__startswith="user demo.")
    assert rows.count() == 12 and {r.actor_name for r in rows} == {"command:seed_demo"}


@pytest.mark.django_db
def test_outside_any_context_the_actor_is_the_system():
    with context.bind(context.RequestContext()):
        row = audit_event_record(action="view", category="security", object_label="probe")
    assert row.actor_name == "system" and row.actor_id is None


@pytest.mark.django_db
def test_any_celery_task_runs_as_itself(settings):
    from celery import shared_task

    @shared_task(name="tests.make_hospital")
    def make_hospital():
        Hospital.objects.create(code="CEL", name="Made by a task", region="R")

    make_hospital.apply()
    row = AuditEvent.objects.get(action="create", object_label="hospital CEL")
    assert row.actor_name == "task:tests.make_hospital"


def test_every_management_command_runs_as_itself(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="hospital.settings.test", DATABASE_URL=f"sqlite:///{tmp_path / 'cmd.sqlite3'}")
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert run("migrate", "-v0").returncode == 0
    env.update(DJANGO_SUPERUSER_PASSWORD="a-long-unused-test-passphrase")
    made = run("createsuperuser", "--noinput", "--username", "first.admin", "--email", "first@example.org")
    assert made.returncode == 0, made.stderr
    code = (
        "import django; django.setup();"
        "from audit.models import AuditEvent;"
        "print(AuditEvent.objects.get(action='create', object_label='user first.admin').actor_name)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "command:createsuperuser", out.stderr
