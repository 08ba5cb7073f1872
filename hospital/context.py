"""Who is acting, from where: the context that audit receivers read.

Set per request by hospital.middleware, and by Celery tasks and management commands
(which record themselves as the actor). contextvars keep it correct under ASGI too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class DatabaseUse:
    """What the database router must know about this request, task or command (hospital.db_routers).

    Shared, not copied, when a context is derived from another (RequestContextMiddleware adds the
    actor to the request's context): a write made anywhere in the request keeps the rest of it on
    the primary database.
    """

    # Something was (or may have been) written: later reads must see it, so they go to the primary.
    wrote: bool = False
    # The client wrote a moment ago (sticky cookie): its reads go to the primary for a few seconds.
    sticky: bool = False


@dataclass(frozen=True)
class RequestContext:
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    user_id: int | None = None
    username: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    # "request", "task:<name>" or "command:<name>"
    origin: str = "system"
    # Per-context memo (e.g. the actor's roles), filled on first use.
    _memo: dict = field(default_factory=dict, compare=False, repr=False)
    db: DatabaseUse = field(default_factory=DatabaseUse, compare=False, repr=False)

    def cached(self, key: str, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


_current: ContextVar[RequestContext | None] = ContextVar("hospital_request_context", default=None)


def current() -> RequestContext:
    return _current.get() or RequestContext()


def bound() -> RequestContext | None:
    """The context bound by a request, task or command; None outside all of them."""
    return _current.get()


@contextlib.contextmanager
def bind(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
