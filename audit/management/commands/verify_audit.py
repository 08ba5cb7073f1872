from django.core.management.base import BaseCommand, CommandError

from audit.verify import verify_chain
from hospital import context


class Command(BaseCommand):
    help = "Verify the audit hash chain. Exit 0 when intact; exit 1 naming the first bad row."

    def handle(self, *args, **options):
        with context.bind(context.RequestContext(username="command:verify_audit", origin="command:verify_audit")):
            report = verify_chain()
        if not report.ok:
            raise CommandError(f"Audit chain BROKEN after {report.checked} good events: {report.problem}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
