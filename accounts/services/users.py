"""Creating accounts: staff by administrators, patients by self-registration."""

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..models import Hospital, User
from ..roles import HOSPITAL_SCOPED_ROLES, Role
from ..tokens import email_verification_token


class AccountError(Exception):
    pass


def _queue(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args))


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    roles: list[Role],
    hospital: Hospital | None,
    password: str | None = None,
) -> User:
    """Create a staff account. Without a password the user sets one through the emailed link."""
    if not roles:
        raise AccountError("Choose at least one role.")
    if Role.PATIENT in roles:
        raise AccountError("Patients register themselves; staff accounts cannot hold the patient role.")
    if hospital is None and any(r in HOSPITAL_SCOPED_ROLES for r in roles):
        raise AccountError("Hospital-scoped roles need a hospital.")
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, hospital=hospital)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    user.groups.set(Group.objects.filter(name__in=[str(r) for r in roles]))
    if not password:
        from ..tasks import send_account_setup_email

        _queue(send_account_setup_email, user.pk)
    return user


@transaction.atomic
def patient_register(*, username: str, email: str, first_name: str, last_name: str, password: str) -> User | None:
    """Self-registration: an inactive patient account, activated from the emailed link.

    If the email already has an account, no second account is made and the owner is told
    by email instead, so the form does not reveal who is registered.
    """
    from ..tasks import send_email_verification, send_registration_notice

    existing = User.objects.filter(email=email.strip().lower()).first()
    if existing is not None:
        _queue(send_registration_notice, existing.pk)
        return None
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, is_active=False)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.add(Group.objects.get(name=Role.PATIENT))
    _queue(send_email_verification, user.pk)
    return user


@transaction.atomic
def patient_activate(*, user: User, token: str) -> bool:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active or not email_verification_token.check_token(user, token):
        return False
    user.is_active = True
    user.save(update_fields=["is_active"])
    return True


@transaction.atomic
def profile_update(*, user: User, first_name: str, last_name: str) -> User:
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.full_clean()
    user.save(update_fields=["first_name", "last_name"])
    return user


def password_reset_link_parts(*, user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)


def email_verification_link_parts(*, user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), email_verification_token.make_token(user)
