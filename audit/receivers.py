"""Signals in, audit rows out. Every handler writes inside the sender's transaction."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save, pre_save

from . import registry
from .models import Action, Category, Outcome
from .services import audit_event_record

log = logging.getLogger(__name__)

_SNAPSHOT_ATTR = "_audit_snapshot"


def _display(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes | memoryview):
        return "<binary>"
    return str(value)


def _current_values(instance: models.Model, config: registry.AuditConfig) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in config.audited_fields()}


_LOADED_ATTR = "_audit_loaded"
_MISSING = object()


def _remember_loaded(instance: models.Model, config: registry.AuditConfig) -> None:
    values = instance.__dict__
    values[_LOADED_ATTR] = {f.attname: values.get(f.attname, _MISSING) for f in config.audited}


def on_post_init(sender, instance, **kwargs) -> None:
    """The values an instance was loaded with: the "before" of its next save, without a query."""
    config = registry.config_for(sender)
    if config is not None:
        _remember_loaded(instance, config)


def watch_refresh(model: type[models.Model]) -> None:
    """refresh_from_db() reloads values without post_init; take the snapshot again after it."""
    original = model.refresh_from_db
    if getattr(original, "_audit_wrapped", False):
        return

    def refresh_from_db(self, *args, **kwargs):
        original(self, *args, **kwargs)
        config = registry.config_for(type(self))
        if config is not None:
            _remember_loaded(self, config)

    refresh_from_db._audit_wrapped = True
    model.refresh_from_db = refresh_from_db


def on_pre_save(sender, instance, raw=False, **kwargs) -> None:
    config = registry.config_for(sender)
    if config is None or raw or instance._state.adding or instance.pk is None:
        return
    loaded = instance.__dict__.get(_LOADED_ATTR)
    if loaded is None or any(v is _MISSING for v in loaded.values()):
        # Deferred fields, or an instance built by hand for an existing row: read the row.
        attnames = [f.attname for f in config.audited]
        loaded = sender._base_manager.filter(pk=instance.pk).values(*attnames).first()
    setattr(instance, _SNAPSHOT_ATTR, loaded)


def _diff(config: registry.AuditConfig, old: dict | None, new: dict) -> dict:
    changes = {}
    for f in config.audited_fields():
        before = old.get(f.attname) if old is not None else None
        after = new.get(f.attname)
        if old is not None and before == after:
            continue
        if old is None and after in (None, ""):
            continue
        if config.is_secret(f):
            changes[f.name] = "changed" if old is not None else "set"
        else:
            changes[f.name] = (
                {"old": _display(before), "new": _display(after)} if old is not None else {"new": _display(after)}
            )
    return changes


def on_post_save(sender, instance, created, raw=False, **kwargs) -> None:
    config = registry.config_for(sender)
    if config is None or raw:
        return
    old = None if created else getattr(instance, _SNAPSHOT_ATTR, None)
    changes = _diff(config, old, _current_values(instance, config))
    if hasattr(instance, _SNAPSHOT_ATTR):
        delattr(instance, _SNAPSHOT_ATTR)
    _remember_loaded(instance, config)  # the next save of this instance diffs from here
    if not created and not changes:
        return
    audit_event_record(
        action=Action.CREATE if created else Action.UPDATE,
        category=config.category,
        patient_id=config.patient_of(instance),
        obj=instance,
        object_label=config.label_of(instance),
        changes=changes,
    )


def on_post_delete(sender, instance, **kwargs) -> None:
    config = registry.config_for(sender)
    if config is None:
        return
    changes = {
        f.name: ("deleted" if config.is_secret(f) else {"old": _display(getattr(instance, f.attname))})
        for f in config.audited_fields()
    }
    audit_event_record(
        action=Action.DELETE,
        category=config.category,
        patient_id=config.patient_of(instance),
        obj=instance,
        object_label=config.label_of(instance),
        changes=changes,
    )


_RAW_ATTR = "_audit_raw_load"


def on_any_pre_save(sender, instance, raw=False, **kwargs) -> None:
    """Mark objects being loaded from fixtures or a test database restore (raw saves).

    Django then sets their many-to-many relations with ordinary m2m_changed signals, which
    carry no `raw` flag; those are restorations of data, not changes anyone made.
    """
    if raw:
        setattr(instance, _RAW_ATTR, True)


def on_m2m_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or getattr(instance, _RAW_ATTR, False):
        return
    User = get_user_model()
    Group = User._meta.get_field("groups").related_model
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    ids = sorted(pk_set or [])
    if sender in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        field = {
            User.groups.through: "groups",
            User.user_permissions.through: "user_permissions",
            Group.permissions.through: "permissions",
        }[sender]
        targets = [instance] if not reverse else list(model._base_manager.filter(pk__in=ids))
        for target in targets:
            changed = ids if not reverse else [instance.pk]
            audit_event_record(
                action=Action.ROLE_CHANGED,
                category=Category.SECURITY,
                obj=target,
                object_label=f"{target._meta.verbose_name} {target}"[:200],
                changes={field: {verb: [str(i) for i in changed]}},
            )
        return
    owner = type(instance) if not reverse else model
    config = registry.config_for(owner)
    if config is None:
        return
    for field in owner._meta.many_to_many:
        if field.remote_field.through is sender:
            targets = [instance] if not reverse else list(owner._base_manager.filter(pk__in=ids))
            for target in targets:
                audit_event_record(
                    action=Action.UPDATE,
                    category=config.category,
                    patient_id=config.patient_of(target),
                    obj=target,
                    object_label=config.label_of(target),
                    changes={field.name: {verb: [str(i) for i in (ids if not reverse else [instance.pk])]}},
                )


def connect_model(model: type[models.Model]) -> None:
    uid = f"audit.{model._meta.label_lower}"
    post_init.connect(on_post_init, sender=model, dispatch_uid=uid + ".post_init")
    pre_save.connect(on_pre_save, sender=model, dispatch_uid=uid + ".pre_save")
    post_save.connect(on_post_save, sender=model, dispatch_uid=uid + ".post_save")
    post_delete.connect(on_post_delete, sender=model, dispatch_uid=uid + ".post_delete")
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        connect_m2m(through)


def connect_m2m(through) -> None:
    # One uid per through model: registering a model twice, or a through already watched
    # for role changes, never doubles the rows.
    m2m_changed.connect(on_m2m_changed, sender=through, dispatch_uid=f"audit.m2m.{through._meta.label_lower}")


# --- authentication -----------------------------------------------------------------------


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    audit_event_record(
        action=Action.LOGIN, category=Category.SECURITY, actor=user, obj=user, object_label=f"user {user}"
    )


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    audit_event_record(
        action=Action.LOGOUT, category=Category.SECURITY, actor=user, obj=user, object_label=f"user {user}"
    )


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    attempted = str((credentials or {}).get("username", ""))[:150]
    audit_event_record(
        action=Action.LOGIN_FAILED,
        category=Category.SECURITY,
        object_label=f"sign-in as {attempted}" if attempted else "sign-in",
        outcome=Outcome.DENIED,
    )


def on_axes_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    audit_event_record(
        action=Action.LOCKED_OUT,
        category=Category.SECURITY,
        object_label=f"account {username} from one client"[:200],
        outcome=Outcome.DENIED,
        reason="too many failed sign-ins from one client",
    )


def on_security_event(sender, action, subject=None, object_label="", reason="", changes=None, actor=None, **kw):
    audit_event_record(
        action=action,
        category=Category.SECURITY,
        actor=actor,
        obj=subject,
        object_label=object_label or (f"user {subject}" if subject is not None else ""),
        reason=reason,
        changes=changes,
        outcome=kw.get("outcome", Outcome.SUCCESS),
    )


def on_phi_accessed(
    sender,
    action,
    category,
    patient_id=None,
    obj=None,
    content_type=None,
    object_id="",
    object_label="",
    outcome=Outcome.SUCCESS,
    reason="",
    actor=None,
    **kwargs,
) -> None:
    audit_event_record(
        action=action,
        category=category,
        actor=actor,
        patient_id=patient_id,
        obj=obj,
        content_type=content_type,
        object_id=str(object_id or ""),
        object_label=object_label,
        outcome=outcome,
        reason=reason,
    )


# --- audit settings -------------------------------------------------------------------------

_state_checked = False


def on_request_started(sender, **kwargs) -> None:
    """Once per process: if AUDIT_ENABLED changed since the last start, that change is recorded."""
    global _state_checked
    if _state_checked:
        return
    _state_checked = True
    from .services import audit_state_sync

    audit_state_sync()
