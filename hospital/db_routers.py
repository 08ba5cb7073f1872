"""Read-replica routing: reads go to the replica when that is safe, everything else to the primary.

Active only when settings.DATABASES has a "replica" alias (DATABASE_REPLICA_URL). Without one every
method returns None, and Django routes exactly as if there were no router.

Writes always go to the primary ("default"). A read goes to the replica only when all of these hold:

- It is made while serving an HTTP request (context origin "request"). Celery tasks are queued after
  commit with the ids of rows just written, often in another process that the replica may not have
  caught up with, and some read to write back (board recounts); management commands read to rewrite
  or to prove (rotate_keys, verify_audit). Code with no bound context (shell, WebSocket consumers,
  threads) cannot be tracked at all. All of them read the primary.
- The primary connection is not inside an atomic block: reads in a transaction must see its own
  writes and take its locks. Locking reads (select_for_update, get_or_create) are routed as writes,
  so they reach the primary in any case.
- This request has not written yet: db_for_write marks the request's context, and the rest of the
  request reads the primary (read-after-write).
- The client did not write a moment ago: StickyPrimaryMiddleware keeps a browser on the primary for
  REPLICA_STICKY_SECONDS after a request that wrote, so the page after a POST's redirect shows the change.
- The model is not security state, which must never be stale (_PRIMARY_APPS, _PRIMARY_MODELS below).
"""

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from . import context

REPLICA = "replica"

# Read from the primary whatever the context, because a stale answer is a security decision
# taken on old facts (a revoked session or grant that still works, a lock-out counter that
# restarts, an audit chain head that forks):
_PRIMARY_APPS = frozenset(
    {
        "sessions",  # session load: a revoked or just-rotated session must take effect at once
        "auth",  # groups and permissions (roles): a removed role must stop working at once
        "guardian",  # object permissions on patients: an ended grant must stop working at once
        "axes",  # per-client lock-out counters: a stale count would allow more guesses
        "audit",  # the trail and its chain head: the sealer and verifier need the newest rows
        "otp_totp",  # django-otp's own device apps, should they ever be installed
        "otp_static",
    }
)
_PRIMARY_MODELS = frozenset(
    {
        # The user row (is_active, password, MFA requirement) and its role memberships.
        "accounts.user",
        "accounts.user_groups",
        "accounts.user_user_permissions",
        # MFA devices and backup codes: replay protection (last_t, used codes) and throttling.
        "accounts.totpdevice",
        "accounts.backupcodedevice",
        "accounts.backupcode",
        # Account-wide lock-out, failure counters, password history, the sessions list (revocation).
        "accounts.loginfailure",
        "accounts.accountlock",
        "accounts.passwordhistory",
        "accounts.usersession",
        # Who may open which record: grants (revoked, expired) and consent codes (one use, five tries).
        "records.accessgrant",
        "records.consentcode",
    }
)
# Writes that do not make the rest of the request read the primary: bookkeeping most requests do
# (the session save, the session list's last-seen time, audit rows, which even a page view writes),
# whose models are read from the primary anyway. Counting them would leave the replica unused.
_UNMARKED_WRITES = frozenset(
    {
        "sessions.session",
        "accounts.usersession",
        "audit.auditevent",
        "audit.chainhead",
        "audit.auditstate",
    }
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def _reads_primary(model) -> bool:
    meta = model._meta
    return meta.app_label in _PRIMARY_APPS or meta.label_lower in _PRIMARY_MODELS


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if not replica_configured():
            return None
        if _reads_primary(model):
            return DEFAULT_DB_ALIAS
        ctx = context.bound()
        if ctx is None or ctx.origin != "request" or ctx.db.wrote or ctx.db.sticky:
            return DEFAULT_DB_ALIAS
        if transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        if not replica_configured():
            return None
        # Django asks here before every write (and before locking reads): the request's later
        # reads must see it, and so must the client's next requests (StickyPrimaryMiddleware).
        ctx = context.bound()
        if ctx is not None and model._meta.label_lower not in _UNMARKED_WRITES:
            ctx.db.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        if not replica_configured():
            return None
        # Both aliases hold the same data: an object read from the replica may point at one from the primary.
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if not replica_configured():
            return None
        # The replica gets its tables by replication from the primary, never by migrate.
        return db == DEFAULT_DB_ALIAS
