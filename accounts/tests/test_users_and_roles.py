"""Users: case-insensitive identity, roles as groups, staff creation, patient self-registration."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import AccountError, staff_user_create
from tests.factories import HospitalFactory


@pytest.mark.django_db
class TestIdentity:
    def test_username_and_email_stored_case_folded(self):
        user = User.objects.create_user("Dr.Who", "Who@Example.ORG", "orchard-lantern-walnut")
        assert (user.username, user.email) == ("dr.who", "who@example.org")

    def test_username_unique_whatever_the_case(self, make_user):
        make_user(Role.PATIENT, username="alice", email="a1@example.org")
        with pytest.raises(ValidationError):
            User(username="ALICE", email="a2@example.org").full_clean()

    def test_email_unique_whatever_the_case(self, make_user):
        make_user(Role.PATIENT, username="alice", email="alice@example.org")
        with pytest.raises(ValidationError):
            User(username="alice2", email="ALICE@example.org").full_clean()

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (("mixed", "m1@example.org"), ("MIXED", "m2@example.org")),
            (("m1", "m@example.org"), ("m2", "M@Example.org")),
        ],
    )
    def test_database_refuses_a_second_account_differing_only_in_case(self, first, second):
        # bulk_create skips the model's own normalization: this is the database's guarantee.
        User.objects.bulk_create([User(username=first[0], email=first[1])])
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.bulk_create([User(username=second[0], email=second[1])])

    def test_sign_in_by_email_any_case(self, client, doctor, password):
        r = client.post(reverse("accounts:login"), {"username": "House@EXAMPLE.org", "password": password})
        assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:mfa_setup"))

    def test_wrong_password_message_does_not_say_which_part_was_wrong(self, client, doctor):
        r1 = client.post(reverse("accounts:login"), {"username": "dr.house", "password": "wrong-password-1"})
        r2 = client.post(reverse("accounts:login"), {"username": "nobody.here", "password": "wrong-password-1"})
        assert b"username or password is not correct" in r1.content
        assert b"username or password is not correct" in r2.content

    def test_empty_login_form_gets_field_errors(self, client, db):
        r = client.post(reverse("accounts:login"), {"username": "", "password": ""})
        assert r.status_code == 200 and r.content.count(b"This field is required") == 2


@pytest.mark.django_db
def test_every_role_is_a_group_with_its_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {r.value for r in Role} <= names
    it = Group.objects.get(name=Role.IT_SECURITY)
    assert {"unlock_account", "reset_mfa"} <= set(it.permissions.values_list("codename", flat=True))
    assert not Group.objects.get(name=Role.PATIENT).permissions.exists()
    assert "change_user" not in set(
        Group.objects.get(name=Role.HOSPITAL_ADMIN).permissions.values_list("codename", flat=True)
    )


@pytest.mark.django_db
class TestStaffCreation:
    def test_staff_account_gets_a_setup_link(self, django_capture_on_commit_callbacks):
        hospital = HospitalFactory()
        with django_capture_on_commit_callbacks(execute=True):
            user = staff_user_create(
                username="N.Nightingale",
                email="flo@example.org",
                first_name="Florence",
                last_name="Nightingale",
                roles=[Role.NURSE],
                hospital=hospital,
            )
        assert user.username == "n.nightingale" and not user.has_usable_password()
        assert user.has_role(Role.NURSE) and user.requires_mfa
        assert "/accounts/password/reset/" in mail.outbox[0].body

    def test_hospital_scoped_role_needs_a_hospital(self):
        with pytest.raises(AccountError, match="need a hospital"):
            staff_user_create(
                username="doc", email="d@example.org", first_name="", last_name="", roles=[Role.DOCTOR], hospital=None
            )
        assert not User.objects.filter(username="doc").exists()

    def test_staff_cannot_hold_the_patient_role(self):
        with pytest.raises(AccountError):
            staff_user_create(
                username="doc", email="d@example.org", first_name="", last_name="", roles=[Role.PATIENT], hospital=None
            )


@pytest.mark.django_db
class TestPatientRegistration:
    def post(self, client, **overrides):
        data = {
            "username": "Jane.Doe",
            "email": "Jane@Example.org",
            "first_name": "Jane",
            "last_name": "Doe",
            "password1": "sunflower-meadow-copper",
            "password2": "sunflower-meadow-copper",
        }
        data.update(overrides)
        return client.post(reverse("accounts:register"), data)

    def test_register_verify_email_then_sign_in(self, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            r = self.post(client)
        assert r.status_code == 302 and r["Location"] == reverse("accounts:register_done")
        user = User.objects.get(username="jane.doe")
        assert not user.is_active and user.has_role(Role.PATIENT)
        r = client.post(reverse("accounts:login"), {"username": "jane.doe", "password": "sunflower-meadow-copper"})
        assert b"not active yet" in r.content
        link = re.search(r"https?://[^/]+(/accounts/verify-email/\S+)", mail.outbox[0].body).group(1)
        r = client.get(link)
        assert r.status_code == 302
        user.refresh_from_db()
        assert user.is_active
        assert client.get(link).status_code == 400, "the link works once"
        r = client.post(reverse("accounts:login"), {"username": "jane.doe", "password": "sunflower-meadow-copper"})
        assert r.status_code == 302 and r["Location"] == reverse("accounts:dashboard")

    def test_tampered_link_is_refused(self, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            self.post(client)
        link = re.search(r"https?://[^/]+(/accounts/verify-email/\S+)", mail.outbox[0].body).group(1)
        assert client.get(link[:-3] + "abc/").status_code == 400
        assert client.get("/accounts/verify-email/!!!/zzz/").status_code == 400
        assert not User.objects.get(username="jane.doe").is_active

    def test_known_email_makes_no_second_account_and_says_the_same(
        self, client, patient, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            r = self.post(client, email="PAT@example.org")
        assert r.status_code == 302 and r["Location"] == reverse("accounts:register_done")
        assert not User.objects.filter(username="jane.doe").exists()
        assert mail.outbox[0].to == ["pat@example.org"] and "already has an" in mail.outbox[0].body

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"password1": "short", "password2": "short"}, b"too short"),
            ({"password2": "something-else-entirely"}, b"do not match"),
            ({"username": "bad name!"}, b"lower-case letters"),
            ({"email": "not-an-email"}, b"valid email"),
            ({"password1": "password1234", "password2": "password1234"}, b"too common"),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_no_account(self, client, overrides, message):
        r = self.post(client, **overrides)
        assert r.status_code == 200 and message in r.content
        assert not User.objects.exists()

    def test_taken_username_any_case(self, client, patient):
        r = self.post(client, username="PAT.JONES", email="other@example.org")
        assert r.status_code == 200 and b"username is taken" in r.content


@pytest.mark.django_db(transaction=True)
def test_role_groups_and_permissions_come_back_after_a_flush():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    it = Group.objects.get(name=Role.IT_SECURITY)
    assert {"unlock_account", "reset_mfa", "view_auditevent"} <= set(it.permissions.values_list("codename", flat=True))
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)


@pytest.mark.django_db
class TestRolesReadWithTheUser:
    """A request's user comes with the names of their roles, in the user's own query."""

    def _api_queries(self, client) -> tuple[int, list[str]]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            status = client.get(reverse("api:availability")).status_code
        return status, [q["sql"] for q in ctx.captured_queries]

    def test_a_staff_request_reads_the_roles_in_the_users_query(self, make_user, mfa_login):
        nurse = make_user(Role.NURSE)
        c = mfa_login(nurse)
        c.get(reverse("api:availability"))  # the board's body is cached from here on
        status, queries = self._api_queries(c)
        assert status == 200
        group_queries = [sql for sql in queries if "auth_group" in sql]
        assert len(group_queries) == 1, queries
        assert "accounts_user" in group_queries[0], "the roles are read in the user's query"
        assert len(queries) <= 4, queries

    def test_a_role_taken_away_applies_to_the_next_request(self, make_user, mfa_login):
        nurse = make_user(Role.NURSE)
        c = mfa_login(nurse)
        assert c.get(reverse("api:availability")).status_code == 200
        nurse.groups.remove(Group.objects.get(name=Role.NURSE))
        assert c.get(reverse("api:availability")).status_code == 403
        nurse.groups.add(Group.objects.get(name=Role.NURSE))
        assert c.get(reverse("api:availability")).status_code == 200

    def test_names_come_back_exactly_and_no_roles_is_empty(self, make_user):
        from accounts.backends import UsernameOrEmailBackend

        backend = UsernameOrEmailBackend()
        odd = Group.objects.create(name='night, "shift" \\ é')
        user = make_user(Role.DOCTOR)
        user.groups.add(odd)
        assert backend.get_user(user.pk).role_names == frozenset({Role.DOCTOR.value, odd.name})
        user.groups.clear()
        loaded = backend.get_user(user.pk)
        assert loaded.role_names == frozenset() and not loaded.is_staff_member
        assert backend.get_user(10**9) is None
