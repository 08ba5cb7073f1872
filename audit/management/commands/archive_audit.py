from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from audit.archive import ArchiveError, archive_before
from hospital import context


class Command(BaseCommand):
    help = (
        "Write audit events older than the retention period (AUDIT_RETENTION_YEARS, default 10) to a "
        "gzip'd, hash-verified JSON-lines file with a manifest. With --purge, remove them from the table "
        "afterwards (needs a database account allowed to DELETE on the audit table)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="folder for the archive files")
        parser.add_argument("--before", help="archive events before this date (YYYY-MM-DD); default: retention cut-off")
        parser.add_argument("--purge", action="store_true", help="delete the archived events from the table")

    def handle(self, *args, output, before, purge, **options):
        cutoff = timezone.now() - timedelta(
            days=365 * settings.AUDIT_RETENTION_YEARS + settings.AUDIT_RETENTION_YEARS // 4
        )
        if before:
            day = parse_date(before)
            if day is None:
                raise CommandError("--before must be a date like 2016-01-31.")
            when = timezone.make_aware(timezone.datetime(day.year, day.month, day.day))
            if purge and when > cutoff:
                raise CommandError(
                    f"Events are kept at least {settings.AUDIT_RETENTION_YEARS} years: --purge only before "
                    f"{cutoff:%Y-%m-%d}."
                )
        else:
            when = cutoff
        with context.bind(context.RequestContext(username="command:archive_audit", origin="command:archive_audit")):
            try:
                record = archive_before(before=when, output=Path(output), purge=purge)
            except ArchiveError as exc:
                raise CommandError(str(exc)) from exc
        if record is None:
            self.stdout.write(f"No events before {when:%Y-%m-%d} left to archive.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Archived events #{record.first_seq}-#{record.last_seq} ({record.events}) to {record.file_name}"
                f" (sha256 {record.file_sha256}){'; removed from the table' if purge else ''}."
            )
        )
