"""Fields of the audit tables."""

from django.db import models


class RowIdAutoField(models.BigAutoField):
    """An auto-incrementing id that, on SQLite, is the table's plain rowid (no AUTOINCREMENT).

    SQLite's AUTOINCREMENT keeps a counter in a second table, sqlite_sequence, that every INSERT
    reads and rewrites: for the audit table, whose INSERT every audited write pays for, that is an
    extra page written per transaction. Without it a new row gets the largest id + 1. Ids could
    only be reused if the newest event were deleted, and events are never deleted; archiving purges
    only events past retention (archive_audit --purge), never the newest. Other databases: as
    BigAutoField.
    """

    def db_type_suffix(self, connection):
        if connection.vendor == "sqlite":
            return None
        return super().db_type_suffix(connection)


class EventJSONField(models.JSONField):
    """JSON written only by the audit writer, which always serializes it itself, so the database
    need not parse it again on every audited write: on SQLite without the CHECK (JSON_VALID(...))
    that Django adds, and on MariaDB/MySQL as LONGTEXT, not JSON (MariaDB's JSON is LONGTEXT with
    that CHECK, run on every INSERT and again when the sealer updates the row; MySQL's parses it
    into its binary form). Reading it back is JSONField's. Other databases: as JSONField."""

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return "longtext"
        return super().db_type(connection)

    def db_check(self, connection):
        if connection.vendor in ("sqlite", "mysql"):
            return None
        return super().db_check(connection)
