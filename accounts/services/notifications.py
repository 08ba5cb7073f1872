"""The notification inbox: create (and queue delivery), deliver by email and SMS, mark read.

Notification texts go to inboxes, mail servers and SMS gateways: callers write them without
patient data (no names, record numbers or clinical reasons; "admission 123", a bed label, a
ward name and a hospital code are fine).
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .. import sms
from ..models import Notification, User

log = logging.getLogger(__name__)


def _queue_delivery(notification_id: int) -> None:
    from ..tasks import deliver_notification

    # robust: the write that caused the notification has committed; a broker that is down must
    # not turn that into an error page. The row stays undelivered (attempts 0) and is logged.
    transaction.on_commit(lambda: deliver_notification.delay(notification_id), robust=True)


@transaction.atomic
def notification_create(
    *, recipients: Iterable[User], kind: str, subject: str, body: str = "", link: str = ""
) -> list[Notification]:
    """One notification per distinct active recipient, each delivered by its own task after commit.

    The text is validated once; the rows are inserted in one statement where the database
    returns the new ids (SQLite, MariaDB 10.5+, PostgreSQL), otherwise one by one.
    """
    prototype = Notification(kind=kind, subject=subject.strip(), body=body.strip(), link=link)
    prototype.full_clean(exclude=["recipient"])
    unique = {user.pk: user for user in recipients if user.pk is not None and user.is_active}
    if not unique:
        return []
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=user_id,
            kind=prototype.kind,
            subject=prototype.subject,
            body=prototype.body,
            link=prototype.link,
            created_at=now,
        )
        for user_id in sorted(unique)
    ]
    if connection.features.can_return_rows_from_bulk_insert:
        Notification.objects.bulk_create(rows)
    else:
        for row in rows:
            row.save()
    for row in rows:
        _queue_delivery(row.pk)
    return rows


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own notifications read; None when the user has no such notification."""
    notification = Notification.objects.select_for_update().filter(pk=notification_id, recipient=user).first()
    if notification is not None and notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


class DeliveryFailed(Exception):
    """A channel failed; what was sent before the failure is recorded and not sent again.

    The message names the channel and the error's type only (the texts of SMTP and gateway
    errors can carry addresses and numbers); it is the one argument, so Celery can serialize it.
    """

    @classmethod
    def of(cls, channel: str, cause: OSError) -> "DeliveryFailed":
        errno = getattr(cause, "errno", None)
        return cls(f"{channel}: {type(cause).__name__}" + (f" [errno {errno}]" if isinstance(errno, int) else ""))


def _send_email(notification: Notification) -> None:
    context = {
        "notification": notification,
        "link": settings.SITE_URL + notification.link if notification.link else "",
        "inbox": settings.SITE_URL + reverse("accounts:notifications"),
    }
    body = render_to_string("accounts/email/notification.txt", context)
    send_mail(notification.subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient.email])


def _send_sms(notification: Notification) -> None:
    text = notification.subject
    if notification.link:
        text += f" {settings.SITE_URL}{notification.link}"
    sms.send_sms(notification.recipient.phone, text)


def notification_deliver(*, notification_id: int) -> list[str]:
    """Send what has not been sent yet: email, and SMS when the recipient has a phone number.

    The row is locked for the whole delivery, so two deliveries of one notification never both
    send, and a channel whose time is set is skipped. On a failure the channels sent before it,
    the attempt and the error are saved, then DeliveryFailed is raised (the task retries it).
    Returns the channels sent by this call.
    """
    with transaction.atomic():
        # The notification row only: joining the user would lock the user's row too, and hold up
        # their sign-in (last_login) for as long as a mail server takes to answer.
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None:
            log.warning("delivery of missing notification #%s dropped", notification_id)
            return []
        recipient = User.objects.get(pk=notification.recipient_id)
        notification.recipient = recipient
        pending = []
        if recipient.is_active:
            if notification.email_sent_at is None and recipient.email:
                pending.append(("email", "email_sent_at", _send_email))
            if notification.sms_sent_at is None and recipient.phone:
                pending.append(("sms", "sms_sent_at", _send_sms))
        if not pending:
            return []
        notification.attempts += 1
        fields = ["attempts", "last_error"]
        sent, failure, cause = [], None, None
        for channel, field, send in pending:
            try:
                send(notification)
            except OSError as exc:
                failure, cause = DeliveryFailed.of(channel, exc), exc
                break
            setattr(notification, field, timezone.now())
            fields.append(field)
            sent.append(channel)
        notification.last_error = str(failure) if failure else ""
        notification.save(update_fields=fields)
    if failure is not None:
        log.warning("notification #%s: %s failed (attempt %s)", notification_id, failure, notification.attempts)
        raise failure from cause
    log.info("notification #%s delivered by %s", notification_id, ", ".join(sent))
    return sent
