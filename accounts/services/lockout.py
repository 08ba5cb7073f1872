"""Lockout beyond what django-axes expresses.

Axes locks one account for one client after AXES_FAILURE_LIMIT failures. This module adds
the account-wide lock: ACCOUNT_LOCKOUT_FAILURES failures from any clients within
ACCOUNT_LOCKOUT_WINDOW lock the account everywhere for ACCOUNT_LOCKOUT_COOLOFF, or until IT
security releases it. A failure made while the client or account is already locked is never
checked against the password and is not counted.
"""

from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from audit.signals import security_event

from ..models import AccountLock, LoginFailure, User

_PRUNE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class LockState:
    locked: bool
    scope: str = ""  # "client" or "account"
    until: object = None


def account_lock_active(*, username: str) -> AccountLock | None:
    now = timezone.now()
    return (
        AccountLock.objects.filter(username=username, released_at__isnull=True, expires_at__gt=now)
        .order_by("-expires_at")
        .first()
    )


def lock_state(*, request: HttpRequest, username: str) -> LockState:
    lock = account_lock_active(username=username)
    if lock is not None:
        return LockState(True, "account", lock.expires_at)
    if settings.AXES_ENABLED and AxesProxyHandler.is_locked(request, get_credentials(username)):
        return LockState(True, "client", None)
    return LockState(False)


@transaction.atomic
def login_failure_record(*, username: str, ip_address: str | None) -> AccountLock | None:
    """Count one failure against the account; lock the account when the limit is reached."""
    now = timezone.now()
    LoginFailure.objects.create(username=username, ip_address=ip_address)
    LoginFailure.objects.filter(username=username, created_at__lt=now - _PRUNE_AFTER).delete()

    since = now - settings.ACCOUNT_LOCKOUT_WINDOW
    # Failures before the last lock began were already paid for by that lock.
    last_lock = AccountLock.objects.filter(username=username).aggregate(at=Max("locked_at"))["at"]
    if last_lock is not None and last_lock > since:
        since = last_lock
    failures = LoginFailure.objects.filter(username=username, created_at__gt=since).count()
    if failures < settings.ACCOUNT_LOCKOUT_FAILURES or account_lock_active(username=username):
        return None
    lock = AccountLock(
        username=username,
        locked_at=now,
        expires_at=now + settings.ACCOUNT_LOCKOUT_COOLOFF,
        failures=failures,
    )
    lock.full_clean()
    lock.save()
    security_event.send(
        sender=AccountLock,
        action="locked_out",
        subject=User.objects.filter(username=username).first(),
        object_label=f"account {username} everywhere",
        reason=f"{failures} failed sign-ins within {settings.ACCOUNT_LOCKOUT_WINDOW}",
        outcome="denied",
    )
    return lock


@transaction.atomic
def account_unlock(*, actor: User, user: User) -> int:
    """Release every lock on `user`: the account-wide lock and each per-client axes lock."""
    from axes.utils import reset

    now = timezone.now()
    released = 0
    for lock in AccountLock.objects.select_for_update().filter(
        username=user.username, released_at__isnull=True, expires_at__gt=now
    ):
        lock.released_at = now
        lock.released_by = actor
        lock.save(update_fields=["released_at", "released_by"])
        released += 1
    released += reset(username=user.username)
    security_event.send(sender=User, action="unlocked", subject=user, actor=actor)
    return released
