"""What the project's SQLite and MySQL backends share: connections come from and go back to a pool.

Following Django's own pooling for PostgreSQL: get_new_connection() takes an idle connection from the
pool (hospital.db.pool) and _close() gives it back, after the backend has rolled back whatever the
request left open. A connection closed inside an atomic block is closed for real (the server rolls
it back), since Django keeps using the wrapper's reference until the block ends.

OPTIONS["pool"] configures it (see hospital.db.pool.PoolOptions); CONN_MAX_AGE must stay 0 with a
pool, since the pool is what keeps connections open between requests.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS

from hospital.db.pool import ConnectionPool, Lease, PoolKey, PoolOptions, close_pools, forget_inherited, pool_for


class PooledDatabaseWrapperMixin:
    """Put before a Django DatabaseWrapper class; the backend supplies ping_raw, close_raw and reset_raw."""

    # Backend defaults for options OPTIONS["pool"] does not set.
    pool_defaults: ClassVar[dict[str, float]] = {}
    _lease: Lease | None = None

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params.pop("pool", None)
        return params

    def pool_key(self) -> PoolKey:
        return PoolKey.for_settings(self.vendor, self.settings_dict)

    @property
    def connection_pool(self) -> ConnectionPool | None:
        """This database's pool, or None when pooling is off for it."""
        options = PoolOptions.from_setting(self.settings_dict["OPTIONS"].get("pool"), **self.pool_defaults)
        # NO_DB_ALIAS: the throw-away connection that creates and drops databases is never pooled.
        if options is None or self.alias == NO_DB_ALIAS or not self.can_pool():
            return None
        if self.settings_dict["CONN_HEALTH_CHECKS"]:
            options = dataclasses.replace(options, ping_after=0.0)  # check every connection before use
        if self.settings_dict["CONN_MAX_AGE"] != 0:
            raise ImproperlyConfigured(
                f"Database {self.alias!r}: CONN_MAX_AGE must be 0 with a connection pool (OPTIONS['pool'])."
            )
        return pool_for(self.pool_key(), options, ping=self.ping_raw, close=self.close_raw)

    def can_pool(self) -> bool:
        return True

    def get_new_connection(self, conn_params: dict) -> Any:
        pool = self.connection_pool
        if pool is not None:
            lease = pool.checkout()
            if lease is not None:
                self._lease = lease
                return lease.raw
        raw = self.open_raw(conn_params)
        self._lease = pool.register(raw) if pool is not None else None
        return raw

    def open_raw(self, conn_params: dict) -> Any:
        """Open a new connection to the database (Django's get_new_connection by default)."""
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        lease, self._lease = self._lease, None
        if lease is None or lease.raw is not self.connection:
            return super()._close()
        if lease.pid != os.getpid():
            forget_inherited(lease)  # opened by the parent of this forked process: its session, not ours
            return
        if self.in_atomic_block or not self._reusable(lease.raw):
            lease.pool.discard(lease)
        else:
            lease.pool.checkin(lease)

    def _reusable(self, raw: Any) -> bool:
        """Reset the connection for its next user; False when it must be closed instead."""
        if self.errors_occurred and not self.ping_raw(raw):
            return False
        return self.reset_raw(raw)

    @staticmethod
    def ping_raw(raw: Any) -> bool:
        raise NotImplementedError

    @staticmethod
    def close_raw(raw: Any) -> None:
        raw.close()

    def reset_raw(self, raw: Any) -> bool:
        """Roll back any open transaction and restore autocommit; False when that fails."""
        raise NotImplementedError


class PooledDatabaseCreationMixin:
    """Test databases: no pooled connection survives the database it belongs to being created or dropped."""

    def _create_test_db(self, verbosity: int, autoclobber: bool, keepdb: bool = False) -> str:
        close_pools(name=self._get_test_db_name())
        return super()._create_test_db(verbosity, autoclobber, keepdb)

    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        close_pools(name=test_database_name)
        super()._destroy_test_db(test_database_name, verbosity)
