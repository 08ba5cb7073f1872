"""Django's SQLite backend, with pooled connections (ENGINE "hospital.db.backends.sqlite3").

A new SQLite connection is cheap to open but not to prepare: Django registers some forty SQL
functions on it and runs the PRAGMAs of init_command. Pooled, that happens once per connection
instead of once per request. In-memory databases are never pooled: each one lives exactly as long
as its connections, which Django already keeps open.
"""

from __future__ import annotations

import sqlite3

from django.db.backends.sqlite3 import base, creation

from hospital.db.backends.pooling import PooledDatabaseCreationMixin, PooledDatabaseWrapperMixin


class DatabaseCreation(PooledDatabaseCreationMixin, creation.DatabaseCreation):
    pass


class DatabaseWrapper(PooledDatabaseWrapperMixin, base.DatabaseWrapper):
    creation_class = DatabaseCreation
    # Checking an SQLite connection costs microseconds and no round trip: check every time.
    pool_defaults = {"ping_after": 0.0}

    def can_pool(self) -> bool:
        return not self.is_in_memory_db()

    @staticmethod
    def ping_raw(raw: sqlite3.Connection) -> bool:
        try:
            raw.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset_raw(self, raw: sqlite3.Connection) -> bool:
        try:
            if raw.in_transaction:
                raw.rollback()
            raw.isolation_level = None  # autocommit, as Django sets it
            # A connection that had its foreign keys turned off (schema changes) is not handed on.
            return raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        except sqlite3.Error:
            return False
