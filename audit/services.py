"""The one writer of audit rows."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from hospital import context

from . import chain
from .models import Action, AuditEvent, AuditState, Category, Outcome  # noqa: F401


def audit_enabled() -> bool:
    return getattr(settings, "AUDIT_ENABLED", True)


# Outside any request, task or command (a shell, a script): no request, no client.
_UNBOUND = {
    "actor_id": None,
    "actor_name": "system",
    "actor_role": "",
    "ip_address": None,
    "user_agent": "",
    "request_id": "",
}


def _actor_fields(actor=None) -> dict:
    ctx = context.bound()
    if ctx is None:
        fields = dict(_UNBOUND)
    else:
        fields = {
            "actor_id": ctx.user_id,
            "actor_name": (ctx.username or ctx.origin)[:200],
            "actor_role": "",
            "ip_address": ctx.ip_address or None,
            "user_agent": ctx.user_agent[:512],
            "request_id": ctx.request_id[:64],
        }
    if actor is not None and getattr(actor, "is_authenticated", False):
        fields.update(actor_id=actor.pk, actor_name=actor.get_username()[:200], actor_role=_label(_role_names(actor)))
    elif ctx is not None:
        # A request's middleware puts the signed-in user's role names here, read with the user.
        fields["actor_role"] = _label(ctx.cached("role_names", lambda: _role_names_of_id(ctx.user_id)))
    return fields


def _label(role_names) -> str:
    return ",".join(sorted(role_names))[:300]


def _role_names(user) -> frozenset[str]:
    if not user.pk:
        return frozenset()
    names = getattr(user, "role_names", None)  # the project's users: read with a request's user
    return frozenset(names if names is not None else user.groups.values_list("name", flat=True))


def _role_names_of_id(user_id: int | None) -> frozenset[str]:
    if user_id is None:
        return frozenset()
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    return _role_names(user) if user else frozenset()


def _joins_transaction(fn):
    """Run `fn` in the caller's transaction, or in one of its own outside any. Like
    atomic(savepoint=False), without entering a block where one is already open (every
    audited write comes through here)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return fn(*args, **kwargs)
        with transaction.atomic():
            return fn(*args, **kwargs)

    return wrapper


@_joins_transaction
def audit_event_record(
    *,
    action: Action | str,
    category: Category | str,
    actor=None,
    patient_id: int | None = None,
    obj: models.Model | None = None,
    content_type: ContentType | None = None,
    object_id: str = "",
    object_label: str = "",
    changes: dict | None = None,
    reason: str = "",
    outcome: Outcome | str = Outcome.SUCCESS,
    activity_at=None,
    force: bool = False,
) -> AuditEvent | None:
    """Insert one event inside the caller's transaction; it commits or rolls back with the change.

    The event is linked into the hash chain by the sealer shortly after commit (audit.chain),
    so writers never wait for one another on the chain. On MariaDB/MySQL the INSERT goes to the
    server with the transaction's next statement (audit.chain.insert_event); the returned event's
    id is set then.
    """
    if not audit_enabled() and not force:
        return None
    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        object_id = str(obj.pk)
    values = {
        "occurred_at": timezone.now(),
        "activity_at": activity_at,
        "patient_id": patient_id,
        "action": str(action),
        "content_type_id": content_type.pk if content_type else None,
        "object_id": object_id[:64],
        "object_label": object_label[:200],
        "category": str(category),
        "changes": changes or {},
        "reason": reason or "",
        "outcome": str(outcome),
        **_actor_fields(actor),
    }
    values["seq"], values["prev_hash"], values["hash"] = None, "", ""
    conn = connections[DEFAULT_DB_ALIAS]
    event = chain.insert_event(values, conn)
    conn.on_commit(chain.seal_soon, robust=True)  # a failed seal never fails the request
    return event


@transaction.atomic
def audit_state_sync() -> bool:
    """Record a change of AUDIT_ENABLED since the last start; True if one was recorded."""
    enabled = audit_enabled()
    state = AuditState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        AuditState.objects.create(pk=1, enabled=enabled, changed_at=timezone.now())
        if enabled:
            return False
    elif state.enabled == enabled:
        return False
    else:
        state.enabled = enabled
        state.changed_at = timezone.now()
        state.save(update_fields=["enabled", "changed_at"])
    audit_event_record(
        action=Action.AUDIT_SETTINGS_CHANGED,
        category=Category.SECURITY,
        object_label="auditing",
        changes={"AUDIT_ENABLED": {"old": str(not enabled), "new": str(enabled)}},
        force=True,
    )
    return True
