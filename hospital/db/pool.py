"""A process-wide pool of open database connections, shared by the threads that serve requests.

Under ASGI, Django runs each request's synchronous code in a thread of its own, and its connections
are per thread: without a pool every request would open (and initialise) a new database connection.
The project's database backends (hospital.db.backends) take a connection from here when Django
connects and give it back when Django closes it (at the end of each request, CONN_MAX_AGE = 0).

What a pool promises:
- a connection is held by one user at a time: it leaves the idle list under the lock on checkout and
  comes back under the lock on checkin, and a lease given back twice is refused;
- at most `size` idle connections are kept; more may be open while requests run (a checkout never
  waits: the database's own connection limit still applies), and the surplus is closed when given back;
- a connection older than `max_age`, or idle longer than `max_idle`, is closed instead of handed out;
- a connection idle longer than `ping_after` is pinged before it is handed out, and a dead one closed;
- connections handed back by an older generation (after `clear()`, e.g. a test database dropped,
  or in a child process after a fork) are closed, never pooled again.
The backends give back only connections in autocommit mode with no open transaction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolOptions:
    """OPTIONS["pool"] of a database: how many idle connections to keep and for how long (seconds)."""

    size: int = 10
    max_age: float = 1800.0
    max_idle: float = 300.0
    ping_after: float = 5.0

    @classmethod
    def from_setting(cls, value: object, **defaults: float) -> PoolOptions | None:
        """The options of OPTIONS["pool"] (a dict, True for the defaults), or None when pooling is off."""
        if value is None or value is False:
            return None
        if value is True:
            value = {}
        if not isinstance(value, dict):
            raise ImproperlyConfigured('DATABASES[...]["OPTIONS"]["pool"] must be a dict of pool options.')
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ImproperlyConfigured(f"Unknown database pool option(s): {', '.join(unknown)}.")
        options = cls(**{**defaults, **value})
        if min(options.size, options.max_age, options.max_idle, options.ping_after) < 0:
            raise ImproperlyConfigured("Database pool options must not be negative.")
        return options if options.size > 0 else None


class PoolKey(NamedTuple):
    """Which database a pool's connections belong to: a pool never serves another configuration."""

    vendor: str
    name: str
    digest: str  # of every connection parameter (credentials included, never stored in the clear)

    @classmethod
    def for_settings(cls, vendor: str, settings_dict: dict) -> PoolKey:
        identity = repr(
            [(name, settings_dict.get(name)) for name in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")]
            + [(name, settings_dict.get(name)) for name in ("TIME_ZONE", "CONN_HEALTH_CHECKS")]
            + [("OPTIONS", sorted(settings_dict["OPTIONS"].items()))]
        )
        return cls(vendor, str(settings_dict.get("NAME") or ""), hashlib.sha256(identity.encode()).hexdigest())


@dataclass(eq=False)
class Lease:
    """One open connection of a pool, with the times that decide when it is too old to reuse."""

    raw: Any
    pool: ConnectionPool
    generation: int
    created_at: float
    released_at: float = field(default=0.0)
    pid: int = field(default_factory=os.getpid)


class ConnectionPool:
    """The idle connections of one database. `ping(raw)` says whether a connection works; `close(raw)` ends one."""

    def __init__(self, options: PoolOptions, *, ping: Callable[[Any], bool], close: Callable[[Any], None]):
        self.options = options
        self._ping = ping
        self._close = close
        self._lock = threading.Lock()
        self._idle: list[Lease] = []  # the most recently given back last: it is handed out first
        self._generation = 0
        self._counts = {"opened": 0, "reused": 0, "discarded": 0}

    def register(self, raw: Any) -> Lease:
        """Track a connection the caller has just opened; it can be given back with checkin()."""
        with self._lock:
            self._counts["opened"] += 1
            return Lease(raw, self, self._generation, time.monotonic())

    def checkout(self) -> Lease | None:
        """A working idle connection, or None: then the caller opens a new one and register()s it."""
        while True:
            with self._lock:
                now = time.monotonic()
                expired = self._take_expired(now)
                lease = self._idle.pop() if self._idle else None
            self._discard_all(expired)
            if lease is None:
                return None
            if now - lease.released_at > self.options.ping_after and not self._ping(lease.raw):
                log.info("discarded a pooled database connection that no longer answers")
                self.discard(lease)
                continue
            with self._lock:
                self._counts["reused"] += 1
            return lease

    def checkin(self, lease: Lease) -> None:
        """Keep a connection the caller has finished with (the caller has reset it), or close it."""
        with self._lock:
            if any(idle is lease for idle in self._idle):
                raise RuntimeError("a pooled database connection was given back twice")
            now = time.monotonic()
            keep = (
                lease.pool is self
                and lease.generation == self._generation
                and now - lease.created_at < self.options.max_age
                and len(self._idle) < self.options.size
            )
            if keep:
                lease.released_at = now
                self._idle.append(lease)
            expired = self._take_expired(now)
        if not keep:
            self.discard(lease)
        self._discard_all(expired)

    def discard(self, lease: Lease) -> None:
        """Close a connection for good (it is not in the idle list)."""
        with self._lock:
            self._counts["discarded"] += 1
        try:
            self._close(lease.raw)
        except Exception:  # a broken connection may fail to close; it is dropped all the same
            log.debug("closing a discarded database connection failed", exc_info=True)

    def clear(self) -> None:
        """Close the idle connections; those in use are closed when given back instead of pooled."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
        self._discard_all(idle)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"idle": len(self._idle), **self._counts}

    def _take_expired(self, now: float) -> list[Lease]:
        """Remove and return the idle connections that are too old or idle too long (lock held)."""
        options = self.options
        expired = [
            lease
            for lease in self._idle
            if now - lease.created_at >= options.max_age or now - lease.released_at >= options.max_idle
        ]
        if expired:
            self._idle = [lease for lease in self._idle if lease not in expired]
        return expired

    def _discard_all(self, leases: list[Lease]) -> None:
        for lease in leases:
            self.discard(lease)

    def _forget_after_fork(self) -> list[Lease]:
        """In a forked child: drop the parent's connections without closing them (they are the parent's)."""
        self._lock = threading.Lock()
        self._generation += 1
        idle, self._idle = self._idle, []
        return idle


_pools: dict[PoolKey, ConnectionPool] = {}
_registry_lock = threading.Lock()
# A forked child keeps its parent's connections referenced but unused: closing them (or letting the
# garbage collector close them) would end the parent's sessions on the server.
_inherited: list[Lease] = []


def pool_for(
    key: PoolKey, options: PoolOptions, *, ping: Callable[[Any], bool], close: Callable[[Any], None]
) -> ConnectionPool:
    """The pool of the database `key`, created on first use; it follows the latest options."""
    with _registry_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ConnectionPool(options, ping=ping, close=close)
        elif pool.options != options:
            pool.options = options
        return pool


def close_pools(*, name: str | None = None) -> None:
    """Close the idle connections of every pool, or of the pools of databases called `name`.

    Test databases are created and dropped under the same name again and again: their pools are
    cleared first, so no connection to a dropped database (or a deleted SQLite file) is ever reused.
    """
    with _registry_lock:
        pools = [pool for key, pool in _pools.items() if name is None or key.name == str(name)]
    for pool in pools:
        pool.clear()


def forget_inherited(lease: Lease) -> None:
    """A connection a forked child inherited in use: the parent's session, neither reset nor closed here."""
    _inherited.append(lease)


def pool_stats() -> dict[PoolKey, dict[str, int]]:
    with _registry_lock:
        pools = list(_pools.items())
    return {key: pool.stats() for key, pool in pools}


def _after_fork_in_child() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    for pool in _pools.values():
        _inherited.extend(pool._forget_after_fork())


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
