import json

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, models

from .identity import canonical_login_name


class RoleNames(models.Aggregate):
    """The names of a user's groups (roles) as a JSON array, aggregated in the user's own query.

    JSON, not a separated list: a group name may contain any character. A user without groups
    gives [null] (the LEFT JOIN's one empty row).
    """

    function = "JSON_ARRAYAGG"
    output_field = models.TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="json_group_array", **extra_context)


# Vendors that have the aggregate (MariaDB 10.5+/MySQL 5.7.22+ and SQLite with JSON1, built in).
_ROLE_NAMES_VENDORS = ("mysql", "sqlite")


class UsernameOrEmailBackend(ModelBackend):
    """Password authentication by username or email, both case-insensitive."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        return super().authenticate(request, username=canonical_login_name(username), password=password, **kwargs)

    def get_user(self, user_id):
        """The signed-in user of a request, with the names of their roles read in the same query.

        Nearly every page and API call asks for the roles (staff-only views, hospital scoping),
        which otherwise costs a query of its own per request. Read with the user, they are exactly
        as fresh as the user's row.
        """
        User = get_user_model()
        manager = User._default_manager
        if connections[manager.db].vendor not in _ROLE_NAMES_VENDORS:
            return super().get_user(user_id)
        try:
            user = manager.annotate(_role_names_json=RoleNames("groups__name")).get(pk=user_id)
        except User.DoesNotExist:
            return None
        names = json.loads(user.__dict__.pop("_role_names_json") or "[]")
        user.role_names = frozenset(name for name in names if name is not None)
        return user if self.user_can_authenticate(user) else None
