"""Account emails. Tasks take a user id only and build the message (and any token) themselves."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from hospital.tasks import task_context

from .models import User
from .services.notifications import DeliveryFailed, notification_deliver

log = logging.getLogger(__name__)

_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "retry_backoff_max": 600, "max_retries": 5}


def _send(user: User, template: str, subject: str, context: dict) -> None:
    context = {"user": user, "site_url": settings.SITE_URL, **context}
    body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    log.info("sent %s email to user #%s", template, user.pk)


def _user(user_id: int) -> User | None:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        log.warning("email task for missing user #%s dropped", user_id)
    return user


@shared_task(**_RETRY)
def send_email_verification(user_id: int) -> None:
    from .services.users import email_verification_link_parts

    with task_context("accounts.send_email_verification"):
        user = _user(user_id)
        if user is None or user.is_active:
            return
        uid, token = email_verification_link_parts(user=user)
        link = settings.SITE_URL + reverse("accounts:verify_email", args=[uid, token])
        _send(user, "verify_email", "Confirm your email address", {"link": link})


@shared_task(**_RETRY)
def send_registration_notice(user_id: int) -> None:
    with task_context("accounts.send_registration_notice"):
        user = _user(user_id)
        if user is None:
            return
        link = settings.SITE_URL + reverse("accounts:password_reset")
        _send(user, "registration_notice", "Someone tried to register with your email", {"link": link})


@shared_task(**_RETRY)
def send_account_setup_email(user_id: int) -> None:
    from .services.users import password_reset_link_parts

    with task_context("accounts.send_account_setup_email"):
        user = _user(user_id)
        if user is None:
            return
        uid, token = password_reset_link_parts(user=user)
        link = settings.SITE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])
        _send(user, "account_setup", "Your hospital platform account", {"link": link})


@shared_task(**_RETRY)
def send_password_reset_email(user_id: int) -> None:
    from .services.users import password_reset_link_parts

    with task_context("accounts.send_password_reset_email"):
        user = _user(user_id)
        if user is None or not user.is_active:
            return
        uid, token = password_reset_link_parts(user=user)
        link = settings.SITE_URL + reverse("accounts:password_reset_confirm", args=[uid, token])
        _send(user, "password_reset", "Reset your password", {"link": link})


@shared_task(**{**_RETRY, "autoretry_for": (OSError, DeliveryFailed)}, ignore_result=True)
def deliver_notification(notification_id: int) -> None:
    """Email (and SMS) one notification. Safe to run twice: a channel already sent is not sent again."""
    with task_context("accounts.deliver_notification"):
        notification_deliver(notification_id=notification_id)
