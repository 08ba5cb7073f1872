"""Walk the chain and report the first row that does not fit."""

from dataclasses import dataclass

from . import chain
from .models import AuditArchive, AuditEvent, ChainHead


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    problem: str = ""
    bad_seq: int | None = None
    bad_id: int | None = None


def verify_chain(
    *, batch_size: int = 2000, start_seq: int | None = None, start_hash: str | None = None, seal: bool = True
) -> ChainReport:
    """Seal what is pending, then recompute every hash in chain order; check links, gaps and the head.

    Edits show as a hash mismatch, deletions as a gap in `seq` (or a head ahead of the last
    row), rows inserted out of band as a broken link or a sequence out of place.
    """
    if seal:
        chain.seal_pending()
    if start_seq is None:
        # Events archived and removed from the table: the chain goes on from the archive's end.
        anchor = AuditArchive.objects.filter(purged=True).order_by("-last_seq").first()
        start_seq, start_hash = (anchor.last_seq + 1, anchor.last_hash) if anchor else (1, chain.GENESIS)
        if anchor and AuditEvent.objects.filter(seq__lt=start_seq).exists():
            return ChainReport(False, 0, f"events up to #{anchor.last_seq} were archived but are still present")
    expected_seq, prev_hash, checked = start_seq, start_hash or chain.GENESIS, 0
    last_seq = start_seq - 1
    qs = AuditEvent.objects.filter(seq__gte=start_seq).order_by("seq")  # unsealed rows (seq NULL) wait
    for event in qs.iterator(chunk_size=batch_size):
        where = {"bad_seq": event.seq, "bad_id": event.pk}
        if event.seq != expected_seq:
            missing = event.seq > expected_seq
            problem = (
                f"event #{expected_seq} is missing (next row is #{event.seq}, id {event.pk})"
                if missing
                else f"event #{event.seq} (id {event.pk}) repeats a sequence number"
            )
            return ChainReport(False, checked, problem, **where)
        if event.prev_hash != prev_hash:
            return ChainReport(
                False, checked, f"event #{event.seq} (id {event.pk}) does not link to the event before it", **where
            )
        if chain.compute_hash(chain.event_values(event)) != event.hash:
            return ChainReport(False, checked, f"event #{event.seq} (id {event.pk}) was altered", **where)
        prev_hash, last_seq = event.hash, event.seq
        expected_seq += 1
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (last_seq, prev_hash) and head.seq >= start_seq:
        return ChainReport(
            False,
            checked,
            f"the chain ends at #{last_seq} but its head records #{head.seq}: rows at the end were removed",
            bad_seq=last_seq + 1,
        )
    return ChainReport(True, checked)
