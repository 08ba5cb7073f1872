"""Keep the user's sessions list in step with Django's sign-in and sign-out."""

from .services.sessions import user_session_end, user_session_rotate
from .signals import session_ended


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_rotate(request=request, user=user)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_end(session_key=request.session.session_key)
        if request.session.session_key:
            session_ended.send(sender=on_user_logged_out, session_key=request.session.session_key)


def sync_roles(sender=None, using="default", **kwargs) -> None:
    """After migrate (and a test database flush): every role group exists with its permissions."""
    from django.contrib.auth.models import Group, Permission

    from .roles import ROLE_PERMISSIONS

    wanted = {p for perms in ROLE_PERMISSIONS.values() for p in perms}
    available = {
        f"{app}.{codename}": pk
        for pk, app, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
        if f"{app}.{codename}" in wanted
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        have = set(group.permissions.values_list("pk", flat=True))
        missing = [available[p] for p in perms if p in available and available[p] not in have]
        if missing:
            group.permissions.add(*missing)
