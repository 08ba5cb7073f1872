import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from tests.factories import HospitalFactory


@pytest.fixture
def admin_client(make_user, mfa_login):
    admin = make_user(Role.SYSTEM_ADMIN, username="root.admin", is_staff=True, is_superuser=True)
    return mfa_login(admin, Client())


@pytest.mark.django_db
def test_admin_creates_a_staff_account_then_assigns_role_and_hospital(admin_client, password):
    r = admin_client.post(
        "/admin/accounts/user/add/",
        {"username": "New.Nurse", "email": "New.Nurse@Example.org", "usable_password": "false"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    user = User.objects.get(username="new.nurse")
    assert user.email == "new.nurse@example.org" and not user.has_usable_password()
    nurse = Group.objects.get(name=Role.NURSE)
    data = {
        "username": "new.nurse",
        "email": "new.nurse@example.org",
        "first_name": "New",
        "last_name": "Nurse",
        "is_active": "on",
        "groups": [nurse.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    r = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert r.status_code == 200 and b"need a hospital" in r.content
    data["hospital"] = HospitalFactory().pk
    r = admin_client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert r.status_code == 302
    assert User.objects.get(pk=user.pk).has_role(Role.NURSE)


@pytest.mark.django_db
def test_admin_action_emails_a_setup_link(admin_client, make_user, django_capture_on_commit_callbacks):
    nurse = make_user(Role.NURSE, username="nurse.z")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/accounts/user/", {"action": "send_setup_email", "_selected_action": [nurse.pk]})
    assert r.status_code == 302
    assert mail.outbox[0].to == [nurse.email] and "/accounts/password/reset/" in mail.outbox[0].body


@pytest.mark.django_db
def test_admin_never_shows_the_totp_key(admin_client, make_user, enrol_totp):
    nurse = make_user(Role.NURSE, username="nurse.k")
    device = enrol_totp(nurse)
    r = admin_client.get(f"/admin/accounts/totpdevice/{device.pk}/change/")
    assert r.status_code == 200
    assert device.key.encode() not in r.content and device.base32_secret.encode() not in r.content
