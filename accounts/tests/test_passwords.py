"""Password policy: 12 to 128 characters, no common ones, none of the last five; reset and change."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import PasswordHistory, UserSession
from accounts.roles import Role


def validate(password, user=None):
    password_validation.validate_password(password, user)


@pytest.mark.django_db
class TestPolicy:
    def test_eleven_characters_refused(self):
        with pytest.raises(ValidationError, match="too short"):
            validate("q7#Lm2v9Kx!")

    def test_twelve_characters_accepted(self):
        validate("q7#Lm2v9Kx!p")

    def test_no_composition_rules(self):
        validate("plumtreeorchardlantern")

    def test_128_accepted_and_129_refused(self):
        validate("z" * 60 + "q7Lm2v9Kxp" * 6 + "abcdefgh")
        with pytest.raises(ValidationError, match="too long"):
            validate("z" * 61 + "q7Lm2v9Kxp" * 6 + "abcdefgh")

    def test_common_password_refused(self):
        with pytest.raises(ValidationError, match="too common"):
            validate("password1234")

    def test_password_like_the_username_refused(self, make_user):
        user = make_user(Role.PATIENT, username="margaretthatcher", email="mt@example.org")
        with pytest.raises(ValidationError, match="similar"):
            validate("margaretthatcher1", user)

    def test_last_five_passwords_cannot_be_reused(self, make_user):
        user = make_user(Role.PATIENT, username="pat.reuse", email="reuse@example.org")
        history = [f"orchard-lantern-{i}-walnut" for i in range(6)]
        for pw in history:
            validate(pw, user)
            user.set_password(pw)
            user.save()
        assert PasswordHistory.objects.filter(user=user).count() == 5
        for pw in history[1:]:
            with pytest.raises(ValidationError, match="used this password recently"):
                validate(pw, user)
        validate(history[0], user)  # the sixth most recent is allowed again

    def test_hashing_is_argon2_first(self):
        from django.conf import settings as s

        from hospital.settings import base

        assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
        assert s.PASSWORD_HASHERS  # tests use a fast hasher; production uses base's list


@pytest.mark.django_db
class TestChange:
    def test_change_needs_the_current_password_and_signs_out_other_sessions(self, client, doctor, mfa_login, password):
        other = mfa_login(doctor, Client())
        mfa_login(doctor)
        new = "river-stone-quiet-harbour"
        r = client.post(
            reverse("accounts:password_change"),
            {"old_password": "wrong-one-entirely", "new_password1": new, "new_password2": new},
        )
        assert r.status_code == 200 and b"incorrectly" in r.content
        r = client.post(
            reverse("accounts:password_change"),
            {"old_password": password, "new_password1": new, "new_password2": new},
        )
        assert r.status_code == 302
        doctor.refresh_from_db()
        assert doctor.check_password(new)
        assert client.get(reverse("accounts:dashboard")).status_code == 200, "this session stays signed in"
        assert other.get(reverse("accounts:dashboard")).status_code == 302
        assert UserSession.objects.filter(user=doctor).count() == 1

    def test_change_to_a_short_password_is_refused_with_a_message(self, client, doctor, mfa_login, password):
        mfa_login(doctor)
        r = client.post(
            reverse("accounts:password_change"),
            {"old_password": password, "new_password1": "short-one", "new_password2": "short-one"},
        )
        assert r.status_code == 200 and b"too short" in r.content
        doctor.refresh_from_db()
        assert doctor.check_password(password)


@pytest.mark.django_db
class TestReset:
    def test_reset_by_email_link(self, client, doctor, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(reverse("accounts:password_reset"), {"email": "HOUSE@example.org"})
        assert r.status_code == 302
        assert len(mail.outbox) == 1
        body = mail.outbox[0].body
        assert mail.outbox[0].to == ["house@example.org"]
        link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", body).group(1)
        r = client.get(link, follow=True)
        assert r.status_code == 200
        form_url = r.redirect_chain[-1][0]
        new = "meadow-lark-copper-kettle"
        r = client.post(form_url, {"new_password1": new, "new_password2": new})
        assert r.status_code == 302
        doctor.refresh_from_db()
        assert doctor.check_password(new)
        # The link works once.
        r = client.get(link, follow=True)
        assert b"not valid" in r.content

    def test_unknown_email_gets_the_same_answer_and_no_mail(self, client, db, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.org"})
        assert r.status_code == 302 and r["Location"] == reverse("accounts:password_reset_done")
        assert mail.outbox == []

    def test_reset_form_refuses_a_reused_password(self, client, doctor, password, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("accounts:password_reset"), {"email": "house@example.org"})
        link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", mail.outbox[0].body).group(1)
        r = client.get(link, follow=True)
        r = client.post(r.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
        assert r.status_code == 200 and b"used this password recently" in r.content


def test_session_settings():
    assert settings.SESSION_IDLE_TIMEOUT.total_seconds() == 15 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds() == 12 * 3600
