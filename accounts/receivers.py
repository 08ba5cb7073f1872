"""Keep the user's sessions list in step with Django's sign-in and sign-out."""

from .services.sessions import user_session_end, user_session_rotate


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_rotate(request=request, user=user)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        user_session_end(session_key=request.session.session_key)
