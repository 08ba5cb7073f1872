from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit.models import AuditEvent

TRIGGER = "audit_auditevent_sealed"


class Command(BaseCommand):
    help = (
        "Print MariaDB/MySQL statements that give the application's database user INSERT and SELECT on "
        "the audit table, UPDATE of its three chain columns only, and a trigger that refuses any change "
        "to a sealed event (and full use of the other tables). Run them as an administrator."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the application's database user, e.g. hospital")
        parser.add_argument("--host", default="%", help="host part of the account (default %%)")
        parser.add_argument("--database", default=None, help="database name (default: the configured one)")

    def handle(self, *args, user, host, database, **options):
        for value, name in ((user, "--user"), (host, "--host")):
            if not value or "'" in value or "\\" in value:
                raise CommandError(f"{name} must be a plain account name without quotes.")
        if database is None:
            if connection.vendor != "mysql":
                raise CommandError("The configured database is not MariaDB/MySQL; pass --database explicitly.")
            database = connection.settings_dict["NAME"]
        if "`" in database:
            raise CommandError("--database must not contain backticks.")
        audit_table = AuditEvent._meta.db_table
        account = f"'{user}'@'{host}'"
        tables = sorted(t for t in connection.introspection.table_names() if t != audit_table)
        lines = [
            f"-- Application account {account}: everything on every table but {audit_table},",
            "-- where it may add and read rows and fill in the chain columns (seq, prev_hash, hash) of",
            "-- an event not sealed yet; the trigger refuses any change to a sealed event, for every",
            "-- account. Re-run after migrations that add tables.",
            f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account};",
        ]
        for table in tables:
            lines.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.`{table}` TO {account};")
        chain_columns = "seq, prev_hash, hash"
        lines.append(f"GRANT SELECT, INSERT, UPDATE ({chain_columns}) ON `{database}`.`{audit_table}` TO {account};")
        lines.append(f"DROP TRIGGER IF EXISTS `{database}`.`{TRIGGER}`;")
        # Printed for an administrator to run; every name in it is checked above.
        trigger_head = f"`{database}`.`{TRIGGER}` BEFORE UPDATE ON `{database}`.`{audit_table}` FOR EACH ROW"
        lines.append(
            "CREATE TRIGGER " + trigger_head + " IF OLD.seq IS NOT NULL THEN SIGNAL SQLSTATE '45000'"
            " SET MESSAGE_TEXT = 'A sealed audit event cannot be changed'; END IF;"
        )
        lines.append("FLUSH PRIVILEGES;")
        self.stdout.write("\n".join(lines))
