"""Django's MySQL/MariaDB backend (mysqlclient), with pooled connections (ENGINE "hospital.db.backends.mysql").

Besides pooling, a new connection is set up in one round trip after the handshake. Stock Django with
mysqlclient spends up to six: the init command, SET NAMES, SET NAMES ... COLLATE, autocommit off
(mysqlclient's default) and on again (Django's), then Django's session settings; and every new
DatabaseWrapper (one per request under ASGI) asks the server for its version and modes again.
Here the collation, the init command and Django's session settings (SQL_AUTO_IS_NULL, isolation
level) go into one multi-statement init command that the client library runs while connecting,
autocommit is asked for at connect time (the server's default: no statement), and the server's
version and modes are asked once per database and process.
"""

from __future__ import annotations

import re
import threading

import MySQLdb
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.mysql import base, creation
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


class DatabaseCreation(PooledDatabaseCreationMixin, creation.DatabaseCreation):
    pass


_server_data: dict[PoolKey, dict] = {}
_server_data_lock = threading.Lock()


class DatabaseWrapper(PooledDatabaseWrapperMixin, base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _session_in_init_command = False

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
