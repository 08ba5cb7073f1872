from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import receivers

        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="accounts.on_user_logged_in")
        user_logged_out.connect(receivers.on_user_logged_out, dispatch_uid="accounts.on_user_logged_out")

        from django.apps import apps
        from django.db.models.signals import post_migrate

        # After the last app's permissions exist, make sure every role has its own.
        last_app = list(apps.get_app_configs())[-1]
        post_migrate.connect(receivers.sync_roles, sender=last_app, dispatch_uid="accounts.sync_roles")

        from audit.registry import register

        from .models import Hospital, User

        # The last sign-in time changes at every login, which the login row already records.
        register(User, category="account", exclude=["last_login"], secret=["password"], label=lambda u: f"user {u}")
        register(Hospital, category="account", label=lambda h: f"hospital {h.code}")
