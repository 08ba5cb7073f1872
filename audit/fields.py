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
    """JSON written only by the audit writer, which always serializes it itself: on SQLite, without
    the CHECK (JSON_VALID(...)) that Django adds, which parses the text again on every audited write.
    Reading it back is JSONField's. Other databases: as JSONField."""

    def db_check(self, connection):
        if connection.vendor == "sqlite":
            return None
        return super().db_check(connection)
