"""Archiving old audit events to gzip'd JSON lines, with a manifest and a full re-check."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime
from pathlib import Path

from django.db import transaction

from . import chain
from .models import AuditArchive, AuditEvent


class ArchiveError(Exception):
    pass


def _serialize(event: AuditEvent) -> dict:
    values = chain.event_values(event)
    values["hash"] = event.hash
    for key, value in values.items():
        if isinstance(value, datetime):
            values[key] = value.isoformat()
    return values


def _parse(line: bytes) -> dict:
    values = json.loads(line)
    for key in ("occurred_at", "activity_at"):
        if values.get(key):
            values[key] = datetime.fromisoformat(values[key])
    return values


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_archive_file(path: Path, manifest: dict) -> int:
    """Re-read an archive; check its digest, every event hash and every link. Returns the count."""
    if sha256_file(path) != manifest["file_sha256"]:
        raise ArchiveError(f"{path.name}: file digest does not match its manifest")
    prev, count, seq = manifest["first_prev_hash"], 0, manifest["first_seq"]
    with gzip.open(path, "rb") as fh:
        for line in fh:
            values = _parse(line)
            if values["seq"] != seq or values["prev_hash"] != prev or chain.compute_hash(values) != values["hash"]:
                raise ArchiveError(f"{path.name}: event #{values['seq']} does not verify")
            prev, seq, count = values["hash"], seq + 1, count + 1
    if count != manifest["events"] or prev != manifest["last_hash"]:
        raise ArchiveError(f"{path.name}: holds {count} events, manifest says {manifest['events']}")
    return count


def archive_before(*, before: datetime, output: Path, purge: bool = False) -> AuditArchive | None:
    """Write every event older than `before` that is not archived yet; optionally remove them from the table.

    Only a contiguous run from the start of the table is archived, so the chain left in the
    database still starts from a known anchor.
    """
    chain.seal_pending()  # archive only sealed events, and all that are due
    anchor = AuditArchive.objects.order_by("-last_seq").first()
    first_seq = anchor.last_seq + 1 if anchor else 1
    newer = AuditEvent.objects.filter(seq__gte=first_seq, occurred_at__gte=before).order_by("seq").first()
    qs = AuditEvent.objects.filter(seq__gte=first_seq).order_by("seq")
    if newer is not None:
        qs = qs.filter(seq__lt=newer.seq)
    first = qs.first()
    if first is None:
        return None
    output.mkdir(parents=True, exist_ok=True)
    tmp = output / f"audit-{first.seq:012d}.jsonl.gz.part"
    count, last = 0, None
    with gzip.open(tmp, "wb") as fh:
        for event in qs.iterator(chunk_size=2000):
            fh.write(json.dumps(_serialize(event), sort_keys=True, separators=(",", ":")).encode() + b"\n")
            count, last = count + 1, event
    name = f"audit-{first.seq:012d}-{last.seq:012d}.jsonl.gz"
    final = output / name
    tmp.rename(final)
    manifest = {
        "file": name,
        "file_sha256": sha256_file(final),
        "events": count,
        "first_seq": first.seq,
        "last_seq": last.seq,
        "first_prev_hash": first.prev_hash,
        "last_hash": last.hash,
    }
    verify_archive_file(final, manifest)
    (output / (name + ".manifest.json")).write_text(json.dumps(manifest, indent=2))
    with transaction.atomic():
        record = AuditArchive.objects.create(
            first_seq=first.seq,
            last_seq=last.seq,
            first_prev_hash=first.prev_hash,
            last_hash=last.hash,
            events=count,
            file_name=name,
            file_sha256=manifest["file_sha256"],
            purged=purge,
        )
        if purge:
            # The model refuses deletes; this is the one sanctioned removal, of rows already
            # archived and verified. It needs a database account with DELETE on the audit table
            # (the application's own account has none, see audit_db_grants).
            AuditEvent.objects.filter(seq__gte=first.seq, seq__lte=last.seq)._raw_delete(AuditEvent.objects.db)
    return record
