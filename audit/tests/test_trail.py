"""Audit rows from model signals, auth signals and access signals; the chain and its verifier."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Hospital, User
from accounts.roles import Role
from audit import registry
from audit.models import AuditEvent
from audit.services import audit_event_record
from audit.signals import phi_accessed
from audit.verify import verify_chain
from conftest import totp_code
from hospital import context
from tests.factories import HospitalFactory


def events(**kw):
    return list(AuditEvent.objects.filter(**kw).order_by("id"))


@pytest.fixture
def actor_context(make_user):
    user = make_user(Role.SYSTEM_ADMIN, username="admin.actor")
    ctx = context.RequestContext(user_id=user.pk, username=user.username, ip_address="10.1.2.3", origin="request")
    with context.bind(ctx):
        yield user


@pytest.mark.django_db
class TestModelWrites:
    def test_create_update_delete_each_give_one_row_with_before_and_after(self, actor_context):
        start = AuditEvent.objects.count()
        hospital = Hospital.objects.create(code="AUD", name="Audit General", region="East")
        hospital.name = "Audit General Hospital"
        hospital.phone = "+44 1"
        hospital.save()
        hospital.save()  # nothing changed: no row
        pk = hospital.pk
        hospital.delete()
        rows = list(AuditEvent.objects.order_by("id"))[start:]
        assert [r.action for r in rows] == ["create", "update", "delete"]
        created, updated, deleted = rows
        assert created.changes["name"] == {"new": "Audit General"}
        assert updated.changes == {
            "name": {"old": "Audit General", "new": "Audit General Hospital"},
            "phone": {"old": "", "new": "+44 1"},
        }
        assert deleted.changes["code"] == {"old": "AUD"}
        for row in rows:
            assert row.object_id == str(pk) and row.object_label == "hospital AUD"
            assert row.actor_id == actor_context.pk and row.actor_name == "admin.actor"
            assert row.actor_role == "system_admin" and row.ip_address == "10.1.2.3"
            assert row.category == "account" and row.outcome == "success"

    def test_secret_fields_appear_only_as_changed(self, actor_context):
        user = User.objects.create_user("secret.keeper", "sk@example.org", "orchard-lantern-walnut")
        created = events(action="create", object_id=str(user.pk))[0]
        assert created.changes["password"] == "set"
        user.set_password("another-orchard-lantern")
        user.save()
        updated = events(action="update", object_id=str(user.pk))[-1]
        assert updated.changes == {"password": "changed"}
        dump = str(list(AuditEvent.objects.values_list("changes", flat=True)))
        assert "pbkdf2" not in dump and "md5$" not in dump and "argon2" not in dump

    def test_encrypted_fields_are_detected_and_never_show_values(self):
        from accounts.models import TOTPDevice

        config = registry.AuditConfig(model=TOTPDevice, category="security")
        key_field = TOTPDevice._meta.get_field("key")
        assert config.is_secret(key_field)
        assert not config.is_secret(TOTPDevice._meta.get_field("name"))

    def test_a_rolled_back_transaction_leaves_no_audit_row(self, actor_context):
        before = AuditEvent.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            Hospital.objects.create(code="RBK", name="Rolled Back", region="East")
            raise RuntimeError("boom")
        assert AuditEvent.objects.count() == before
        assert not Hospital.objects.filter(code="RBK").exists()

    def test_group_and_permission_changes_are_recorded(self, actor_context, make_user):
        nurse = make_user(Role.NURSE, username="nurse.role")
        group = Group.objects.get(name=Role.DOCTOR)
        nurse.groups.add(group)
        row = events(action="role_changed", object_id=str(nurse.pk))[-1]
        assert row.changes == {"groups": {"added": [str(group.pk)]}} and row.category == "security"
        nurse.groups.remove(group)
        assert events(action="role_changed", object_id=str(nurse.pk))[-1].changes == {
            "groups": {"removed": [str(group.pk)]}
        }
        from django.contrib.auth.models import Permission

        perm = Permission.objects.get(codename="view_hospital")
        group.permissions.remove(perm)
        assert events(action="role_changed", object_id=str(group.pk))[-1].changes == {
            "permissions": {"removed": [str(perm.pk)]}
        }

    def test_actor_name_is_kept_after_the_user_is_deleted(self, make_user):
        user = make_user(Role.NURSE, username="leaver")
        with context.bind(context.RequestContext(user_id=user.pk, username="leaver")):
            HospitalFactory(code="LVR")
        user.delete()
        row = events(object_label="hospital LVR")[0]
        assert row.actor_name == "leaver" and row.actor_id is not None


@pytest.mark.django_db
class TestAuthEvents:
    def test_login_logout_and_failed_login(self, client, doctor, password):
        client.post(reverse("accounts:login"), {"username": "dr.house", "password": "not-the-password"})
        failed = events(action="login_failed")[-1]
        assert failed.object_label == "sign-in as dr.house" and failed.outcome == "denied"
        assert "not-the-password" not in str(failed.changes) + failed.object_label + failed.reason
        client.post(reverse("accounts:login"), {"username": "dr.house", "password": password})
        login = events(action="login")[-1]
        assert login.actor_name == "dr.house" and login.actor_role == "doctor"
        client.post(reverse("accounts:logout"))
        assert events(action="logout")[-1].actor_id == doctor.pk

    def test_lockouts_are_recorded(self, doctor):
        for i in range(5):
            Client().post(
                reverse("accounts:login"), {"username": "dr.house", "password": "x" * 12}, REMOTE_ADDR="10.0.0.9"
            )
        assert events(action="locked_out")[-1].object_label == "account dr.house from one client"
        for i in range(20):
            Client().post(
                reverse("accounts:login"), {"username": "dr.house", "password": "x" * 12}, REMOTE_ADDR=f"10.0.1.{i}"
            )
        assert events(action="locked_out", object_label="account dr.house everywhere")

    def test_mfa_enrolment_removal_and_reset_are_recorded(self, client, doctor, password, make_user, mfa_login):
        from accounts.models import TOTPDevice

        client.post(reverse("accounts:login"), {"username": "dr.house", "password": password})
        client.get(reverse("accounts:mfa_setup"))
        device = TOTPDevice.objects.get(user=doctor)
        client.post(reverse("accounts:mfa_setup"), {"otp_token": totp_code(device)})
        enrolled = events(action="mfa_enrolled")[-1]
        assert enrolled.object_id == str(doctor.pk) and enrolled.actor_id == doctor.pk
        assert device.key not in str(enrolled.changes)
        client.post(reverse("accounts:device_remove", args=[device.pk]))
        assert events(action="mfa_removed")[-1].object_id == str(doctor.pk)
        officer = make_user(Role.IT_SECURITY, username="sec.audit")
        c = mfa_login(officer, Client())
        c.post(reverse("accounts:it_security_mfa_reset", args=[doctor.pk]))
        reset = events(action="mfa_reset")[-1]
        assert reset.actor_id == officer.pk and reset.object_id == str(doctor.pk)


@pytest.mark.django_db
class TestAccessSignal:
    def test_phi_read_sent_by_a_view_becomes_a_row(self, actor_context):
        phi_accessed.send(
            sender=None, action="view", category="diagnosis", patient_id=42, object_label="diagnosis #7", reason="care"
        )
        row = events(action="view", patient_id=42)[-1]
        assert (row.category, row.object_label, row.reason, row.outcome) == (
            "diagnosis",
            "diagnosis #7",
            "care",
            "success",
        )

    def test_a_403_page_writes_a_denied_row(self, doctor, mfa_login):
        c = mfa_login(doctor, Client())
        assert c.get(reverse("audit:report")).status_code == 403
        row = events(outcome="denied", action="view")[-1]
        assert row.object_label == "GET /audit/" and row.actor_id == doctor.pk

    def test_a_403_from_the_api_writes_a_denied_row(self, doctor, mfa_login):
        c = mfa_login(doctor, Client())
        assert c.get(reverse("api:audit-events")).status_code == 403
        assert events(outcome="denied", object_label="GET /api/v1/audit/events/")


@pytest.mark.django_db
class TestAppendOnly:
    def test_model_refuses_update_and_delete(self, actor_context):
        row = audit_event_record(action="view", category="security", object_label="x")
        with pytest.raises(PermissionError):
            row.save()
        with pytest.raises(PermissionError):
            row.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=row.pk).update(reason="edited")
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=row.pk).delete()

    def test_admin_is_read_only(self, make_user, mfa_login):
        admin = make_user(Role.SYSTEM_ADMIN, username="root.ro", is_staff=True, is_superuser=True)
        c = mfa_login(admin, Client())
        row = AuditEvent.objects.order_by("-seq").first()
        assert c.get("/admin/audit/auditevent/").status_code == 200
        r = c.get(f"/admin/audit/auditevent/{row.pk}/change/")
        assert r.status_code == 200 and b'name="_save"' not in r.content
        assert c.post(f"/admin/audit/auditevent/{row.pk}/delete/", {"post": "yes"}).status_code == 403
        assert c.get("/admin/audit/auditevent/add/").status_code == 403


def tamper(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
class TestChain:
    @pytest.fixture
    def trail(self, actor_context):
        for i in range(12):
            audit_event_record(action="view", category="diagnosis", patient_id=i, object_label=f"record {i}")
        assert verify_chain().ok
        return list(AuditEvent.objects.order_by("id"))

    def run_verify(self):
        with pytest.raises(SystemExit) as exc:
            call_command("verify_audit")
        return exc.value.code

    def test_intact_chain_exits_zero(self, trail, capsys):
        call_command("verify_audit")
        assert "intact" in capsys.readouterr().out

    def test_edited_row_is_named(self, trail, capsys):
        victim = trail[5]
        tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["edited", victim.pk])
        report = verify_chain()
        assert not report.ok and report.bad_seq == victim.seq and "altered" in report.problem
        from django.core.management import CommandError

        with pytest.raises(CommandError) as exc:
            call_command("verify_audit")
        assert exc.value.returncode == 1 and f"#{victim.seq}" in str(exc.value)

    def test_deleted_row_is_named(self, trail):
        victim = trail[4]
        tamper("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
        report = verify_chain()
        assert not report.ok and report.bad_seq == victim.seq + 1 and f"#{victim.seq} is missing" in report.problem

    def test_deleted_last_row_is_noticed(self, trail):
        tamper("DELETE FROM audit_auditevent WHERE id = %s", [trail[-1].pk])
        report = verify_chain()
        assert not report.ok and "removed" in report.problem

    def test_row_inserted_out_of_band_is_named(self, trail):
        # A forger re-numbers nothing and appends a row with a made-up hash after #6.
        tamper("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq > %s", [6])
        tamper(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_name, actor_role, action, object_id, object_label,"
            " category, changes, user_agent, request_id, reason, outcome, prev_hash, hash)"
            " VALUES (%s, %s, '', '', 'view', '', 'forged', 'diagnosis', '{}', '', '', '', 'success', %s, %s)",
            [7, trail[6].occurred_at, trail[5].hash, "f" * 64],
        )
        report = verify_chain()
        assert not report.ok and report.bad_seq == 7

    def test_rehashed_forgery_still_breaks_the_next_link(self, trail):
        from audit import chain

        victim = trail[3]
        values = chain.event_values(victim)
        values["reason"] = "forged reason"
        forged = chain.compute_hash(values)
        tamper("UPDATE audit_auditevent SET reason = %s, hash = %s WHERE id = %s", ["forged reason", forged, victim.pk])
        report = verify_chain()
        assert not report.ok and report.bad_seq == victim.seq + 1 and "does not link" in report.problem


@pytest.mark.django_db
def test_loading_saved_data_is_not_recorded_as_role_changes():
    from django.core import serializers

    data = serializers.serialize("json", Group.objects.filter(name=Role.IT_SECURITY))
    Group.objects.filter(name=Role.IT_SECURITY).delete()
    before = AuditEvent.objects.filter(action="role_changed").count()
    for obj in serializers.deserialize("json", data):
        obj.save()
    assert Group.objects.get(name=Role.IT_SECURITY).permissions.filter(codename="reset_mfa").exists()
    assert AuditEvent.objects.filter(action="role_changed").count() == before


@pytest.mark.django_db
class TestSnapshot:
    def test_before_values_follow_refresh_from_db(self, actor_context):
        hospital = Hospital.objects.create(code="SNP", name="First", region="R")
        Hospital.objects.filter(pk=hospital.pk).update(name="Changed elsewhere")  # test-only shortcut
        hospital.refresh_from_db()
        hospital.name = "Mine"
        hospital.save()
        row = events(action="update", object_label="hospital SNP")[-1]
        assert row.changes == {"name": {"old": "Changed elsewhere", "new": "Mine"}}

    def test_consecutive_saves_of_one_instance_each_diff_from_the_last(self, actor_context):
        hospital = Hospital.objects.create(code="SN2", name="One", region="R")
        hospital.name = "Two"
        hospital.save()
        hospital.name = "Three"
        hospital.save()
        rows = events(action="update", object_label="hospital SN2")
        assert [r.changes["name"] for r in rows] == [{"old": "One", "new": "Two"}, {"old": "Two", "new": "Three"}]

    def test_deferred_fields_fall_back_to_reading_the_row(self, actor_context):
        Hospital.objects.create(code="SN3", name="Before", region="R", phone="1")
        hospital = Hospital.objects.only("pk", "code").get(code="SN3")
        hospital.name = "After"
        hospital.save(update_fields=["name"])
        row = events(action="update", object_label="hospital SN3")[-1]
        assert row.changes == {"name": {"old": "Before", "new": "After"}}

    def test_a_missing_chain_head_is_rebuilt_from_the_last_event(self, actor_context):
        from audit.models import ChainHead

        audit_event_record(action="view", category="security", object_label="a")
        ChainHead.objects.all().delete()
        audit_event_record(action="view", category="security", object_label="b")
        assert verify_chain().ok


@pytest.mark.django_db
class TestSealing:
    def test_writers_insert_unsealed_rows_and_the_sealer_links_them_in_id_order(self, actor_context):
        from audit import chain

        chain.seal_pending()
        first = [audit_event_record(action="view", category="diagnosis", object_label=f"s{i}") for i in range(3)]
        assert all(e.seq is None and e.hash == "" and e.prev_hash == "" for e in first)
        assert chain.seal_pending() == 3
        sealed = list(AuditEvent.objects.filter(pk__in=[e.pk for e in first]).order_by("id"))
        seqs = [e.seq for e in sealed]
        assert seqs == list(range(seqs[0], seqs[0] + 3))
        assert [e.prev_hash for e in sealed[1:]] == [e.hash for e in sealed[:-1]]
        assert all(chain.compute_hash(chain.event_values(e)) == e.hash for e in sealed)
        assert verify_chain(seal=False).ok

    def test_sealing_again_changes_nothing(self, actor_context):
        from audit import chain

        for i in range(4):
            audit_event_record(action="view", category="diagnosis", object_label=f"t{i}")
        chain.seal_pending()
        before = list(AuditEvent.objects.order_by("id").values_list("id", "seq", "prev_hash", "hash"))
        assert chain.seal_pending() == 0
        assert list(AuditEvent.objects.order_by("id").values_list("id", "seq", "prev_hash", "hash")) == before

    def test_batches_continue_one_chain(self, actor_context, monkeypatch):
        from audit import chain

        monkeypatch.setattr(chain, "SEAL_BATCH", 2)
        for i in range(5):
            audit_event_record(action="view", category="diagnosis", object_label=f"b{i}")
        assert chain.seal_pending(limit=3) == 3
        assert AuditEvent.objects.filter(seq__isnull=True).count() >= 2
        chain.seal_pending()
        assert not AuditEvent.objects.filter(seq__isnull=True).exists()
        assert verify_chain(seal=False).ok

    def test_unsealed_rows_are_not_verified_until_sealed_but_verify_seals_first(self, actor_context):
        audit_event_record(action="view", category="diagnosis", object_label="late")
        assert verify_chain(seal=False).ok
        assert AuditEvent.objects.filter(seq__isnull=True).exists()
        report = verify_chain()
        assert report.ok and not AuditEvent.objects.filter(seq__isnull=True).exists()

    def test_the_beat_task_seals(self, actor_context, settings):
        from audit.tasks import seal_chain

        audit_event_record(action="view", category="diagnosis", object_label="beat")
        assert seal_chain() >= 1
        assert not AuditEvent.objects.filter(seq__isnull=True).exists()
        schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        assert "audit.tasks.seal_chain" in schedule


@pytest.mark.django_db(transaction=True)
class TestSealingAfterCommit:
    def test_a_committed_write_is_sealed_right_after_commit(self, actor_context, settings):
        settings.AUDIT_SEAL_INTERVAL = 0
        with transaction.atomic():
            Hospital.objects.create(code="SEA", name="Sealed General", region="R")
        row = AuditEvent.objects.get(action="create", object_label="hospital SEA")
        assert row.seq is not None and len(row.hash) == 64

    def test_sealing_is_rate_limited_per_process(self, actor_context, settings):
        from audit import chain

        settings.AUDIT_SEAL_INTERVAL = 3600
        chain.seal_soon()  # may seal; then no more for an hour
        with transaction.atomic():
            Hospital.objects.create(code="SEB", name="Later General", region="R")
        chain._last_seal = __import__("time").monotonic()
        with transaction.atomic():
            Hospital.objects.create(code="SEC", name="Later Still", region="R")
        assert AuditEvent.objects.get(action="create", object_label="hospital SEC").seq is None
        assert verify_chain().ok
        assert AuditEvent.objects.get(action="create", object_label="hospital SEC").seq is not None
