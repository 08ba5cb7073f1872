"""Reads of account data, each a fixed number of queries."""

from collections.abc import Iterable

from django.contrib.sessions.models import Session
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import AccountLock, BackupCodeDevice, Notification, TOTPDevice, User, UserSession
from .roles import Role


def security_overview(*, user: User) -> dict:
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at"))
    backup = (
        BackupCodeDevice.objects.filter(user=user)
        .annotate(remaining=Count("codes", filter=Q(codes__used_at__isnull=True)))
        .first()
    )
    return {
        "devices": devices,
        "backup_remaining": backup.remaining if backup else 0,
        "has_backup": backup is not None,
        "mfa_required": user.requires_mfa,
    }


def totp_device_for_user(*, user: User, device_id: int) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=True).first()


def confirmed_totp_count(*, user: User) -> int:
    return TOTPDevice.objects.filter(user=user, confirmed=True).count()


def active_sessions(*, user: User) -> QuerySet[UserSession]:
    live = Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())
    return UserSession.objects.filter(user=user).filter(Exists(live)).order_by("-last_seen_at")


def users_for_security_review(*, query: str = "", limit: int = 50) -> list[User]:
    """Users matching a username/email fragment, with MFA and lock state, in four queries."""
    now = timezone.now()
    qs = User.objects.order_by("username")
    if query:
        q = query.strip().lower()
        qs = qs.filter(Q(username__contains=q) | Q(email__contains=q))
    users = list(
        qs.annotate(
            totp_count=Count("totpdevice", filter=Q(totpdevice__confirmed=True), distinct=True),
        ).prefetch_related("groups")[:limit]
    )
    locked = set(
        AccountLock.objects.filter(
            username__in=[u.username for u in users], released_at__isnull=True, expires_at__gt=now
        ).values_list("username", flat=True)
    )
    from axes.models import AccessAttempt
    from django.conf import settings

    client_locked = set(
        AccessAttempt.objects.filter(
            username__in=[u.username for u in users],
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=now - settings.AXES_COOLOFF_TIME,
        ).values_list("username", flat=True)
    )
    for u in users:
        u.account_locked = u.username in locked
        u.client_locked = u.username in client_locked
    return users


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first (one query per page: no relations are shown)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def notification_for(*, user: User, notification_id: int) -> Notification | None:
    return Notification.objects.filter(recipient=user, pk=notification_id).first()


def unread_notification_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def users_to_notify(
    *, hospital_ids: Iterable[int] | None, hospital_roles: Iterable[Role], global_roles: Iterable[Role]
) -> list[User]:
    """Active users holding one of `hospital_roles` in one of the hospitals (every hospital when
    `hospital_ids` is None), plus active users holding one of `global_roles`. One query."""
    in_hospital = Q(groups__name__in=[str(r) for r in hospital_roles])
    if hospital_ids is not None:
        in_hospital &= Q(hospital_id__in=list(hospital_ids))
    everywhere = Q(groups__name__in=[str(r) for r in global_roles])
    return list(User.objects.filter(is_active=True).filter(in_hospital | everywhere).distinct().order_by("pk"))
