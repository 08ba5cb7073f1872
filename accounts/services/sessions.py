"""The user's view of their sessions: list, revoke one, sign out everywhere."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from hospital.net import client_ip

from ..models import User, UserSession

USER_SESSION_KEY = "accounts_user_session_id"
AUTH_AT_KEY = "accounts_auth_at"
LAST_SEEN_KEY = "accounts_last_seen"


@transaction.atomic
def user_session_rotate(*, request: HttpRequest, user: User | None = None) -> UserSession:
    """Record the current session (new or after a session-key change) for the signed-in user."""
    user = user or request.user
    session = request.session
    if session.session_key is None:
        session.save()
    now = timezone.now()
    row = None
    row_id = session.get(USER_SESSION_KEY)
    if row_id:
        row = UserSession.objects.select_for_update().filter(pk=row_id, user=user).first()
    if row is None:
        row = UserSession(user=user)
    row.session_key = session.session_key
    row.ip_address = client_ip(request)
    row.user_agent = request.META.get("HTTP_USER_AGENT", "")[:512]
    row.last_seen_at = now
    row.save()
    session[USER_SESSION_KEY] = row.pk
    session.setdefault(AUTH_AT_KEY, now.isoformat())
    session[LAST_SEEN_KEY] = now.isoformat()
    return row


@transaction.atomic
def user_session_touch(*, request: HttpRequest) -> None:
    now = timezone.now()
    request.session[LAST_SEEN_KEY] = now.isoformat()
    row_id = request.session.get(USER_SESSION_KEY)
    if row_id:
        UserSession.objects.filter(pk=row_id).update(last_seen_at=now, ip_address=client_ip(request))


@transaction.atomic
def user_session_end(*, session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def _kill(row: UserSession) -> None:
    from ..signals import session_ended

    Session.objects.filter(session_key=row.session_key).delete()
    key = row.session_key
    row.delete()
    transaction.on_commit(lambda: session_ended.send(sender=UserSession, session_key=key))


@transaction.atomic
def user_session_revoke(*, user: User, session_id: int) -> bool:
    """End one of the user's sessions; False if it is not theirs or already gone."""
    row = UserSession.objects.select_for_update().filter(pk=session_id, user=user).first()
    if row is None:
        return False
    _kill(row)
    return True


@transaction.atomic
def user_sessions_revoke_all(*, user: User, except_session_key: str | None = None) -> int:
    rows = list(UserSession.objects.select_for_update().filter(user=user).exclude(session_key=except_session_key or ""))
    for row in rows:
        _kill(row)
    return len(rows)


def session_expired(*, request: HttpRequest) -> str | None:
    """'idle' or 'absolute' when the signed-in session has run out, else None."""
    now = timezone.now()
    last_seen = request.session.get(LAST_SEEN_KEY)
    auth_at = request.session.get(AUTH_AT_KEY)
    try:
        if last_seen and now - timezone.datetime.fromisoformat(last_seen) > settings.SESSION_IDLE_TIMEOUT:
            return "idle"
        if auth_at and now - timezone.datetime.fromisoformat(auth_at) > settings.SESSION_ABSOLUTE_TIMEOUT:
            return "absolute"
    except ValueError:
        return "absolute"
    return None
