"""MFA: enforced for staff, replay refused, backup codes once, secrets unreadable at rest."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import BackupCode, BackupCodeDevice, TOTPDevice, UserSession
from accounts.roles import STAFF_ROLES, Role
from conftest import clear_otp_throttle, totp_code

STAFF_PAGES = [
    "accounts:dashboard",
    "accounts:profile",
    "accounts:security",
    "accounts:sessions",
    "accounts:password_change",
    "accounts:device_add",
    "accounts:backup_codes",
    "accounts:it_security_users",
    "admin:index",
    "admin:accounts_user_changelist",
    "api-docs",
]


def sign_in_password_only(client, user, password):
    r = client.post(reverse("accounts:login"), {"username": user.username, "password": password})
    assert r.status_code == 302
    return r


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_staff_without_mfa_reach_only_the_mfa_step_and_sign_out(client, make_user, password, role):
    user = make_user(role, username=f"u.{role}".replace("_", "-"), is_staff=True)
    r = sign_in_password_only(client, user, password)
    assert r["Location"].startswith(reverse("accounts:mfa_setup"))
    for name in STAFF_PAGES:
        r = client.get(reverse(name))
        assert r.status_code == 302, name
        assert r["Location"].startswith(reverse("accounts:mfa_setup")), (name, r["Location"])
    assert client.get(reverse("api:me")).status_code == 403
    assert client.get(reverse("accounts:mfa_setup")).status_code == 200
    r = client.post(reverse("accounts:logout"))
    assert r.status_code == 302
    assert client.get(reverse("accounts:dashboard")).status_code == 302


@pytest.mark.django_db
def test_staff_with_a_device_is_sent_to_the_code_step_not_enrolment(client, doctor, password, enrol_totp):
    enrol_totp(doctor)
    r = sign_in_password_only(client, doctor, password)
    assert r["Location"].startswith(reverse("accounts:mfa_verify"))
    r = client.get(reverse("accounts:mfa_setup"))
    assert r["Location"].startswith(reverse("accounts:mfa_verify")), "enrolling must not bypass the existing device"
    assert client.get(reverse("accounts:dashboard"))["Location"].startswith(reverse("accounts:mfa_verify"))


@pytest.mark.django_db
def test_patient_without_device_is_not_forced_but_offered_mfa(client, patient, password):
    r = sign_in_password_only(client, patient, password)
    assert r["Location"] == reverse("accounts:dashboard")
    assert client.get(reverse("accounts:dashboard")).status_code == 200
    assert b"Add an authenticator app" in client.get(reverse("accounts:security")).content


@pytest.mark.django_db
def test_patient_with_device_must_pass_mfa(client, patient, password, enrol_totp):
    device = enrol_totp(patient)
    r = sign_in_password_only(client, patient, password)
    assert r["Location"].startswith(reverse("accounts:mfa_verify"))
    assert client.get(reverse("accounts:dashboard")).status_code == 302
    assert client.get(reverse("api:me")).status_code == 403
    client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device)})
    assert client.get(reverse("accounts:dashboard")).status_code == 200


@pytest.mark.django_db
def test_totp_code_cannot_be_replayed(client, doctor, password, enrol_totp):
    device = enrol_totp(doctor)
    code = totp_code(device)
    sign_in_password_only(client, doctor, password)
    r = client.post(reverse("accounts:mfa_verify"), {"otp_token": code})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:dashboard")

    other = Client()
    sign_in_password_only(other, doctor, password)
    r = other.post(reverse("accounts:mfa_verify"), {"otp_token": code})
    assert r.status_code == 200
    assert b"not valid or was already used" in r.content
    assert other.get(reverse("accounts:dashboard")).status_code == 302


@pytest.mark.django_db
def test_right_code_right_after_a_wrong_one_is_asked_to_wait(client, doctor, password, enrol_totp):
    device = enrol_totp(doctor)
    sign_in_password_only(client, doctor, password)
    client.post(reverse("accounts:mfa_verify"), {"otp_token": "000000"})
    r = client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device)})
    assert r.status_code == 200 and b"Wait a minute" in r.content
    clear_otp_throttle(doctor)
    r = client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device)})
    assert r.status_code == 302


@pytest.mark.django_db
def test_a_backup_code_does_not_count_as_a_wrong_app_code(client, doctor, password):
    device, codes = enrol_through_pages(client, doctor, password)
    c = Client()
    sign_in_password_only(c, doctor, password)
    assert c.post(reverse("accounts:mfa_verify"), {"otp_token": codes[0]}).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


@pytest.mark.django_db
def test_code_of_the_next_step_is_accepted_within_tolerance(client, doctor, password, enrol_totp):
    device = enrol_totp(doctor)
    sign_in_password_only(client, doctor, password)
    r = client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device, offset_steps=1)})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:dashboard")


def enrol_through_pages(client, user, password) -> tuple[TOTPDevice, list[str]]:
    sign_in_password_only(client, user, password)
    client.get(reverse("accounts:mfa_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    r = client.post(reverse("accounts:mfa_setup"), {"otp_token": totp_code(device)})
    assert r.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


@pytest.mark.django_db
def test_backup_code_works_once(client, doctor, password):
    _, codes = enrol_through_pages(client, doctor, password)
    client.post(reverse("accounts:logout"))

    c1 = Client()
    sign_in_password_only(c1, doctor, password)
    r = c1.post(reverse("accounts:mfa_verify"), {"otp_token": codes[3].upper()})
    assert r.status_code == 302 and r["Location"] == reverse("accounts:dashboard")
    assert c1.get(reverse("accounts:dashboard")).status_code == 200

    c2 = Client()
    sign_in_password_only(c2, doctor, password)
    r = c2.post(reverse("accounts:mfa_verify"), {"otp_token": codes[3]})
    assert r.status_code == 200 and b"not valid" in r.content
    assert BackupCode.objects.filter(used_at__isnull=True).count() == 9


@pytest.mark.django_db
def test_enrolment_page_shows_qr_and_secret_and_wrong_code_is_refused(client, doctor, password):
    sign_in_password_only(client, doctor, password)
    r = client.get(reverse("accounts:mfa_setup"))
    device = TOTPDevice.objects.get(user=doctor, confirmed=False)
    assert b'<img src="data:image/svg+xml;base64,' in r.content
    assert device.base32_secret.encode() in r.content
    wrong = f"{(int(totp_code(device)) + 1) % 1000000:06d}"
    r = client.post(reverse("accounts:mfa_setup"), {"otp_token": wrong})
    assert r.status_code == 200 and b"not valid" in r.content
    assert not TOTPDevice.objects.filter(user=doctor, confirmed=True).exists()
    r = client.post(reverse("accounts:mfa_setup"), {"otp_token": "abc"})
    assert r.status_code == 200 and b'class="error"' in r.content


@pytest.mark.django_db
def test_raw_database_holds_neither_totp_secret_nor_backup_codes(client, doctor, password):
    device, codes = enrol_through_pages(client, doctor, password)
    needles = [device.key.lower(), device.base32_secret.lower(), *[c.lower() for c in codes]]
    needles += [c.replace("-", "") for c in codes]
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute("SELECT * FROM " + connection.ops.quote_name(table))
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        text = bytes(value).decode("latin-1").lower()
                    else:
                        text = str(value).lower()
                    found += [(table, n) for n in needles if n in text]
    assert found == []
    assert BackupCode.objects.count() == 10


@pytest.mark.django_db
def test_admin_requires_mfa(client, make_user, password):
    admin = make_user(Role.SYSTEM_ADMIN, username="root.admin", is_staff=True, is_superuser=True)
    sign_in_password_only(client, admin, password)
    r = client.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:mfa_setup"))
    device = TOTPDevice.objects.create(user=admin, name="Phone", confirmed=True)
    r = client.get("/admin/")
    assert r["Location"].startswith(reverse("accounts:mfa_verify"))
    client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device)})
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_site_refuses_unverified_session_even_without_the_middleware(rf, make_user):
    from django.contrib import admin

    user = make_user(Role.SYSTEM_ADMIN, username="root.admin", is_staff=True, is_superuser=True)
    request = rf.get("/admin/")
    request.user = user
    user.is_verified = lambda: False
    assert admin.site.has_permission(request) is False
    user.is_verified = lambda: True
    assert admin.site.has_permission(request) is True


@pytest.mark.django_db
def test_admin_login_page_redirects_to_the_platform_sign_in(client):
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
class TestDeviceManagement:
    def test_adding_a_device_needs_the_password_again(self, client, doctor, mfa_login, password):
        mfa_login(doctor)
        session = client.session
        session["accounts_reauth_at"] = "2000-01-01T00:00:00+00:00"
        session.save()
        r = client.get(reverse("accounts:device_add"))
        assert r["Location"].startswith(reverse("accounts:reauth"))
        r = client.post(reverse("accounts:reauth"), {"password": "not-my-password", "next": "/accounts/security/"})
        assert r.status_code == 200 and b"not correct" in r.content
        r = client.post(reverse("accounts:reauth"), {"password": password, "next": reverse("accounts:device_add")})
        assert r["Location"] == reverse("accounts:device_add")
        r = client.post(reverse("accounts:device_add"), {"name": "Backup phone"})
        r = client.get(r["Location"])
        assert r.status_code == 200
        pending = TOTPDevice.objects.get(user=doctor, confirmed=False)
        assert pending.name == "Backup phone"
        r = client.post(reverse("accounts:mfa_setup"), {"otp_token": totp_code(pending)})
        # This user had no backup codes yet, so they are made and shown now.
        assert r.status_code == 200 and b'id="backup-codes"' in r.content
        assert TOTPDevice.objects.filter(user=doctor, confirmed=True).count() == 2

    def test_removing_a_device_needs_the_password_again(self, client, doctor, mfa_login, password):
        mfa_login(doctor)
        device = TOTPDevice.objects.get(user=doctor)
        session = client.session
        session["accounts_reauth_at"] = "2000-01-01T00:00:00+00:00"
        session.save()
        r = client.post(reverse("accounts:device_remove", args=[device.pk]))
        assert r["Location"].startswith(reverse("accounts:reauth"))
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
        client.post(reverse("accounts:reauth"), {"password": password})
        r = client.post(reverse("accounts:device_remove", args=[device.pk]))
        assert not TOTPDevice.objects.filter(pk=device.pk).exists()
        # A doctor without a device is sent straight back to enrolment.
        r = client.get(reverse("accounts:dashboard"))
        assert r["Location"].startswith(reverse("accounts:mfa_setup"))

    def test_cannot_remove_someone_elses_device(self, client, doctor, make_user, mfa_login):
        other = make_user(Role.NURSE, username="nurse.b")
        theirs = TOTPDevice.objects.create(user=other, name="Phone", confirmed=True)
        mfa_login(doctor)
        client.post(reverse("accounts:device_remove", args=[theirs.pk]))
        assert TOTPDevice.objects.filter(pk=theirs.pk).exists()

    def test_regenerating_backup_codes_invalidates_the_old_ones(self, client, doctor, password):
        _, old_codes = enrol_through_pages(client, doctor, password)
        r = client.post(reverse("accounts:backup_codes"))
        new_codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", r.content.decode())
        assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
        c = Client()
        sign_in_password_only(c, doctor, password)
        assert c.post(reverse("accounts:mfa_verify"), {"otp_token": old_codes[0]}).status_code == 200
        clear_otp_throttle(doctor)
        assert c.post(reverse("accounts:mfa_verify"), {"otp_token": new_codes[0]}).status_code == 302

    def test_it_security_resets_mfa_and_ends_sessions(self, client, doctor, make_user, mfa_login, password):
        doctor_client = mfa_login(doctor, Client())
        officer = make_user(Role.IT_SECURITY, username="sec.officer")
        mfa_login(officer)
        r = client.post(reverse("accounts:it_security_mfa_reset", args=[doctor.pk]))
        assert r.status_code == 302
        assert not TOTPDevice.objects.filter(user=doctor).exists()
        assert not BackupCodeDevice.objects.filter(user=doctor).exists()
        assert not UserSession.objects.filter(user=doctor).exists()
        assert doctor_client.get(reverse("accounts:dashboard"))["Location"].startswith(reverse("accounts:login"))
        c = Client()
        r = sign_in_password_only(c, doctor, password)
        assert r["Location"].startswith(reverse("accounts:mfa_setup"))

    def test_non_security_staff_cannot_reset_mfa(self, client, doctor, make_user, mfa_login):
        TOTPDevice.objects.create(user=doctor, name="Phone", confirmed=True)
        nurse = make_user(Role.NURSE, username="nurse.c")
        mfa_login(nurse)
        assert client.post(reverse("accounts:it_security_mfa_reset", args=[doctor.pk])).status_code == 403
        assert client.get(reverse("accounts:it_security_users")).status_code == 403
        assert TOTPDevice.objects.filter(user=doctor).exists()
