import gzip
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.archive import ArchiveError, verify_archive_file
from audit.models import AuditArchive, AuditEvent
from audit.services import audit_event_record
from audit.verify import verify_chain


@pytest.fixture
def old_and_new_events():
    for i in range(8):
        audit_event_record(action="view", category="diagnosis", patient_id=i, object_label=f"r{i}")
    eleven_years = timezone.now() - timedelta(days=365 * 11)
    # Back-date the first five before they are sealed (test set-up only; the model itself refuses updates).
    from django.db import connection

    first_five = list(AuditEvent.objects.order_by("id").values_list("id", flat=True)[:5])
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET occurred_at = %s WHERE id IN (%s, %s, %s, %s, %s)", [eleven_years, *first_five]
        )
    assert verify_chain().ok


@pytest.mark.django_db
def test_archive_writes_a_verified_file_and_purge_keeps_the_chain_verifiable(old_and_new_events, tmp_path, capsys):
    call_command("archive_audit", output=str(tmp_path), purge=True)
    assert "#1-#5" in capsys.readouterr().out
    archive = AuditArchive.objects.get()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [archive.file_name, archive.file_name + ".manifest.json"]
    manifest = json.loads((tmp_path / (archive.file_name + ".manifest.json")).read_text())
    assert verify_archive_file(tmp_path / archive.file_name, manifest) == 5
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))[:1] == [6]
    assert verify_chain().ok
    call_command("verify_audit")


@pytest.mark.django_db
def test_a_tampered_archive_file_fails_verification(old_and_new_events, tmp_path):
    call_command("archive_audit", output=str(tmp_path))
    archive = AuditArchive.objects.get()
    assert AuditEvent.objects.filter(seq__lte=5).count() == 5, "without --purge the rows stay"
    path = tmp_path / archive.file_name
    manifest = json.loads((tmp_path / (archive.file_name + ".manifest.json")).read_text())
    lines = gzip.decompress(path.read_bytes()).splitlines()
    lines[2] = lines[2].replace(b'"r2"', b'"forged"')
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    with pytest.raises(ArchiveError, match="digest"):
        verify_archive_file(path, manifest)
    manifest["file_sha256"] = __import__("audit.archive", fromlist=["sha256_file"]).sha256_file(path)
    with pytest.raises(ArchiveError, match="#3 does not verify"):
        verify_archive_file(path, manifest)


@pytest.mark.django_db
def test_purging_inside_the_retention_period_is_refused(old_and_new_events, tmp_path):
    recent = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%d")
    with pytest.raises(CommandError, match="kept at least 10 years"):
        call_command("archive_audit", output=str(tmp_path), before=recent, purge=True)
    with pytest.raises(CommandError, match="must be a date"):
        call_command("archive_audit", output=str(tmp_path), before="last tuesday")
    assert AuditEvent.objects.count() >= 8
