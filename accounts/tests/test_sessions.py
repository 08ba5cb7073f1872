"""Sessions: new id at sign-in, idle and absolute time-outs, list, revoke one, sign out everywhere."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserSession
from accounts.roles import Role
from accounts.services.sessions import AUTH_AT_KEY, LAST_SEEN_KEY


def age_session(client, key: str, by: timedelta) -> None:
    session = client.session
    session[key] = (timezone.now() - by).isoformat()
    session.save()


@pytest.mark.django_db
def test_session_id_changes_at_sign_in_and_again_after_mfa(client, doctor, password, enrol_totp):
    from conftest import totp_code

    device = enrol_totp(doctor)
    client.get(reverse("accounts:login"))
    client.cookies[settings.SESSION_COOKIE_NAME] = "attacker-fixed-session-id-0123456789"
    client.post(reverse("accounts:login"), {"username": doctor.username, "password": password})
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_password != "attacker-fixed-session-id-0123456789"
    client.post(reverse("accounts:mfa_verify"), {"otp_token": totp_code(device)})
    after_mfa = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_mfa != after_password
    assert UserSession.objects.get(user=doctor).session_key == after_mfa


@pytest.mark.django_db
def test_idle_for_fifteen_minutes_signs_out(client, doctor, mfa_login):
    mfa_login(doctor)
    age_session(client, LAST_SEEN_KEY, timedelta(minutes=14))
    assert client.get(reverse("accounts:dashboard")).status_code == 200
    age_session(client, LAST_SEEN_KEY, timedelta(minutes=16))
    r = client.get(reverse("accounts:dashboard"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))
    r = client.get(r["Location"])
    assert b"inactivity" in r.content
    assert not UserSession.objects.filter(user=doctor).exists()


@pytest.mark.django_db
def test_activity_keeps_the_session_alive(client, doctor, mfa_login):
    mfa_login(doctor)
    age_session(client, LAST_SEEN_KEY, timedelta(minutes=10))
    assert client.get(reverse("accounts:dashboard")).status_code == 200
    last_seen = timezone.datetime.fromisoformat(client.session[LAST_SEEN_KEY])
    assert timezone.now() - last_seen < timedelta(seconds=5)


@pytest.mark.django_db
def test_absolute_limit_of_twelve_hours(client, doctor, mfa_login):
    mfa_login(doctor)
    age_session(client, AUTH_AT_KEY, timedelta(hours=12, minutes=1))
    r = client.get(reverse("accounts:dashboard"))
    assert r.status_code == 302
    assert b"maximum length" in client.get(r["Location"]).content


@pytest.mark.django_db
def test_sessions_page_lists_device_and_address(doctor, mfa_login):
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) AppleWebKit Chrome/130.0 Mobile Safari/537.36")
    mfa_login(doctor, phone)
    desk = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/131.0",
        REMOTE_ADDR="10.20.30.40",
    )
    mfa_login(doctor, desk)
    r = desk.get(reverse("accounts:sessions"))
    assert r.status_code == 200
    assert b"Chrome on Android" in r.content
    assert b"Firefox on Windows" in r.content
    assert b"10.20.30.40" in r.content
    assert b"(this session)" in r.content


@pytest.mark.django_db
def test_revoke_one_session(doctor, mfa_login):
    a = mfa_login(doctor, Client())
    b = mfa_login(doctor, Client())
    b_key = b.session.session_key
    row = UserSession.objects.get(session_key=b_key)
    r = a.post(reverse("accounts:session_revoke", args=[row.pk]))
    assert r.status_code == 302
    assert b.get(reverse("accounts:dashboard")).status_code == 302
    assert a.get(reverse("accounts:dashboard")).status_code == 200


@pytest.mark.django_db
def test_cannot_revoke_another_users_session(doctor, make_user, mfa_login):
    nurse = make_user(Role.NURSE, username="nurse.x")
    n = mfa_login(nurse, Client())
    d = mfa_login(doctor, Client())
    row = UserSession.objects.get(user=nurse)
    d.post(reverse("accounts:session_revoke", args=[row.pk]))
    assert n.get(reverse("accounts:dashboard")).status_code == 200


@pytest.mark.django_db
def test_sign_out_everywhere(doctor, mfa_login):
    clients = [mfa_login(doctor, Client()) for _ in range(3)]
    r = clients[0].post(reverse("accounts:sessions_revoke_all"))
    assert r.status_code == 302
    for c in clients:
        assert c.get(reverse("accounts:dashboard")).status_code == 302
    assert not UserSession.objects.filter(user=doctor).exists()


@pytest.mark.django_db
def test_sign_out_is_post_only(client, doctor, mfa_login):
    mfa_login(doctor)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("accounts:dashboard")).status_code == 200
