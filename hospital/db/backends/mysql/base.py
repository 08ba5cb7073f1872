"""Django's MySQL/MariaDB backend (mysqlclient), with pooled connections (ENGINE "hospital.db.backends.mysql").

Besides pooling, a new connection is set up in one round trip after the handshake. Stock Django with
mysqlclient spends up to six: the init command, SET NAMES, SET NAMES ... COLLATE, autocommit off
(mysqlclient's default) and on again (Django's), then Django's session settings; and every new
DatabaseWrapper (one per request under ASGI) asks the server for its version and modes again.
Here the collation, the init command and Django's session settings (SQL_AUTO_IS_NULL, isolation
level) go into one multi-statement init command that the client library runs while connecting,
autocommit is asked for at connect time (the server's default: no statement), and the server's
version and modes are asked once per database and process.

Statements can also be queued for the connection's next round trip (`send_with_next`): they go to
the server in front of whatever the connection sends next (a query, a savepoint, the COMMIT), as
one multi-statement, so a write that must happen in the transaction costs no round trip of its own.
The audit trail's INSERT goes this way (audit.chain.insert_event).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence

import MySQLdb
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.mysql import base, creation
from django.db.backends.utils import debug_transaction
from django.utils.functional import cached_property
from MySQLdb.connections import _charset_to_encoding

from hospital.db.backends.pooling import PooledDatabaseCreationMixin, PooledDatabaseWrapperMixin
from hospital.db.pool import PoolKey

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class Connection(MySQLdb.connections.Connection):
    """mysqlclient's connection, without its SET NAMES when the handshake already chose the character set.

    mysqlclient always sends SET NAMES <charset> after connecting, which would also reset the
    collation that the init command set. The handshake (MYSQL_SET_CHARSET_NAME) has chosen the
    character set already, so only the Python side needs to know the encoding.
    """

    def set_character_set(self, charset: str, collation: str | None = None) -> None:
        if collation or charset != self.character_set_name():
            super().set_character_set(charset, collation)
            return
        self.encoding = _charset_to_encoding.get(charset, charset)


# A queued statement, rendered with its parameters, and what to call with the id it inserted.
Queued = tuple[bytes, Callable[[int], None] | None]


class CursorWrapper(base.CursorWrapper):
    """Django's MySQL cursor wrapper, which first sends what is queued on the connection.

    The queued statements and the caller's go in one multi-statement. The server runs them in
    order and stops at the first error, which is raised here, mapped as Django's wrapper maps it:
    a failed queued statement fails the statement that carried it, inside the same transaction.
    """

    def __init__(self, cursor, db: DatabaseWrapper) -> None:
        super().__init__(cursor)
        self.db = db

    def execute(self, query, args=None):
        queued = self.db._take_queued()
        if not queued:
            return super().execute(query, args)
        mogrify = getattr(self.cursor, "_mogrify", None)
        if mogrify is None or isinstance(args, dict):
            self.run_queued(queued)
            return super().execute(query, args)
        return self.run_queued(queued, mogrify(query, args))

    def executemany(self, query, args):
        queued = self.db._take_queued()
        if queued:
            self.run_queued(queued)
        return super().executemany(query, args)

    def run_queued(self, queued: list[Queued], tail: bytes | None = None) -> int:
        """Send the queued statements, then `tail` (already rendered), in one round trip; return
        the row count of the last statement. Each queued statement's callback gets its new id."""
        statements = [statement for statement, _ in queued]
        if tail is not None:
            statements.append(tail)
        try:
            self.cursor.execute(b"; ".join(statements))
            for position, (_, done) in enumerate(queued):
                if done is not None:
                    done(self.cursor.lastrowid)
                if position < len(statements) - 1:
                    self.cursor.nextset()
        except MySQLdb.OperationalError as e:
            if e.args[0] in self.codes_for_integrityerror:
                raise IntegrityError(*tuple(e.args)) from e
            raise
        return self.cursor.rowcount


class DatabaseCreation(PooledDatabaseCreationMixin, creation.DatabaseCreation):
    pass


_server_data: dict[PoolKey, dict] = {}
_server_data_lock = threading.Lock()


class DatabaseWrapper(PooledDatabaseWrapperMixin, base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _session_in_init_command = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[Queued] = []

    # --- statements queued for the next round trip ------------------------------------------

    def send_with_next(self, sql: str, params: Sequence, done: Callable[[int], None] | None = None) -> bool:
        """Queue `sql` (with %s placeholders) to go to the server with this connection's next
        statement, in the open transaction; `done` gets the id it inserted. False (nothing queued)
        outside a transaction, when no connection is open, or with multi-statements turned off
        (OPTIONS "multi_statements": False): the caller then executes it itself.

        The statement is rendered now, with the driver's own escaping. It reaches the server before
        anything else this connection sends, the COMMIT included; a rollback drops it unsent.
        """
        if not self._session_in_init_command:  # multi-statements turned off in OPTIONS
            return False
        if not self.in_atomic_block or self.connection is None or self.needs_rollback:
            return False
        self._queued.append((self._render(sql, params), done))
        return True

    def _render(self, sql: str, params: Sequence) -> bytes:
        """`sql` with its parameters as literals, as mysqlclient's Cursor.execute() renders them:
        text, integers and NULL here (the driver's own escaping, without its per-value dispatch),
        anything else through the driver's literal()."""
        raw = self.connection
        encoding, quote = raw.encoding, raw.string_literal
        literals = []
        for value in params:
            kind = type(value)
            if value is None:
                literals.append(b"NULL")
            elif kind is str:
                literals.append(quote(value.encode(encoding)))
            elif kind is int:
                literals.append(str(value).encode())
            else:
                literals.append(raw.literal(value))
        return sql.encode(encoding) % tuple(literals)

    def _take_queued(self) -> list[Queued]:
        queued, self._queued = self._queued, []
        return queued

    def flush_queued(self) -> None:
        """Send what is queued now, on its own."""
        if self._queued:
            with self.wrap_database_errors:
                self._run_queued(self._take_queued())

    def _run_queued(self, queued: list[Queued], tail: bytes | None = None) -> None:
        cursor = self.create_cursor()
        try:
            cursor.run_queued(queued, tail)
        finally:
            cursor.close()

    def create_cursor(self, name=None) -> CursorWrapper:
        return CursorWrapper(self.connection.cursor(), self)

    def _commit(self):
        queued = self._take_queued()
        if not queued or self.connection is None:
            return super()._commit()
        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            self._run_queued(queued, b"COMMIT")

    def _rollback(self):
        self._queued.clear()  # never sent: nothing to undo
        return super()._rollback()

    def _set_autocommit(self, autocommit: bool) -> None:
        self.flush_queued()  # a statement queued in the transaction must not land outside it
        super()._set_autocommit(autocommit)

    def _close(self) -> None:
        self._queued.clear()  # the transaction it belonged to ends with the connection
        super()._close()

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        self._session_in_init_command = params.get("multi_statements", True)
        if not self._session_in_init_command:
            return params  # one statement per init command only: Django's own way
        statements = []
        collation = params.pop("collation", "")
        if collation:
            charset = params["charset"]
            if not (_NAME.match(charset) and _NAME.match(collation)):
                raise ImproperlyConfigured(f"Invalid MySQL character set or collation: {charset!r} {collation!r}.")
            statements.append(f"SET NAMES {charset} COLLATE {collation}")
        init_command = params.pop("init_command", "").strip().rstrip(";")
        if init_command:
            statements.append(init_command)
        # What Django's init_connection_state() would send next, in its own round trip.
        statements.append("SET SQL_AUTO_IS_NULL = 0")
        if self.isolation_level:
            statements.append(f"SET SESSION TRANSACTION ISOLATION LEVEL {self.isolation_level.upper()}")
        params["init_command"] = "; ".join(statements)
        params.setdefault("autocommit", self.settings_dict["AUTOCOMMIT"])
        return params

    def open_raw(self, conn_params: dict) -> Connection:
        raw = Connection(**conn_params)
        # As in Django's get_new_connection(): mysqlclient's bytes encoder is not wanted.
        if raw.encoders.get(bytes) is bytes:
            raw.encoders.pop(bytes)
        return raw

    def init_connection_state(self) -> None:
        if self._session_in_init_command:
            BaseDatabaseWrapper.init_connection_state(self)  # the version check; the rest was in init_command
        else:
            super().init_connection_state()

    @cached_property
    def mysql_server_data(self) -> dict:
        key = self.pool_key()
        with _server_data_lock:
            data = _server_data.get(key)
        if data is None:
            data = base.DatabaseWrapper.mysql_server_data.func(self)
            with _server_data_lock:
                _server_data[key] = data
        return data

    @staticmethod
    def ping_raw(raw: Connection) -> bool:
        try:
            raw.ping()
        except MySQLdb.Error:
            return False
        return True

    def reset_raw(self, raw: Connection) -> bool:
        # ROLLBACK always: a transaction begun with raw SQL leaves no trace the client can see.
        # It is also the liveness check: a connection that cannot roll back is not reused.
        try:
            raw.rollback()
            raw.autocommit(True)  # no round trip when it is on already
        except MySQLdb.Error:
            return False
        return True
