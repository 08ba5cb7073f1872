from django.contrib.auth.backends import ModelBackend

from .identity import canonical_login_name


class UsernameOrEmailBackend(ModelBackend):
    """Password authentication by username or email, both case-insensitive."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        return super().authenticate(request, username=canonical_login_name(username), password=password, **kwargs)
