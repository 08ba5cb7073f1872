from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.core.signals import request_started
        from django.db.models.signals import pre_save

        from . import (
            checks,  # noqa: F401  (registers system checks)
            receivers,
            signals,
        )

        user_logged_in.connect(receivers.on_user_logged_in, dispatch_uid="audit.login")
        user_logged_out.connect(receivers.on_user_logged_out, dispatch_uid="audit.logout")
        user_login_failed.connect(receivers.on_user_login_failed, dispatch_uid="audit.login_failed")
        user_locked_out.connect(receivers.on_axes_locked_out, dispatch_uid="audit.axes_locked_out")
        signals.security_event.connect(receivers.on_security_event, dispatch_uid="audit.security_event")
        signals.phi_accessed.connect(receivers.on_phi_accessed, dispatch_uid="audit.phi_accessed")
        request_started.connect(receivers.on_request_started, dispatch_uid="audit.state")
        pre_save.connect(receivers.on_any_pre_save, dispatch_uid="audit.raw_load_marker")

        User = get_user_model()
        Group = User._meta.get_field("groups").related_model
        for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
            receivers.connect_m2m(through)
