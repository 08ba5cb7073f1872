from django.db import migrations


def changes_as_text(apps, schema_editor):
    """MariaDB/MySQL: the changes column becomes LONGTEXT without a JSON check (see
    audit.fields.EventJSONField). Databases migrated from scratch got it in 0007 already."""
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            ["audit_auditevent", "changes"],
        )
        row = cursor.fetchone()
        checked = 0
        if connection.mysql_is_mariadb:  # MariaDB's JSON is LONGTEXT with a CHECK (json_valid(...))
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.CHECK_CONSTRAINTS"
                " WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = %s AND CHECK_CLAUSE LIKE %s",
                ["audit_auditevent", "%json_valid%"],
            )
            checked = cursor.fetchone()[0]
    if (row and row[0].lower() != "longtext") or checked:
        table, column = schema_editor.quote_name("audit_auditevent"), schema_editor.quote_name("changes")
        schema_editor.execute(f"ALTER TABLE {table} MODIFY {column} LONGTEXT NOT NULL")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0007_leaner_event_insert")]

    operations = [migrations.RunPython(changes_as_text, migrations.RunPython.noop)]
