"""Tell the rest of the platform (board aggregate, live boards, alerts) about bed changes, after commit.

Reads far outnumber bed changes, and a burst of bookings in one hospital needs one recount, not
one per booking: after commit, a change queues a refresh of its hospital's figures for that bed
kind unless one is already queued and not yet started (a cache flag, set when queued and cleared
by the task before it counts, so a change committed after the count always queues another).
The refresh runs in a Celery worker (inline when no broker is configured) and then announces
the new figures to the live boards.
"""

from django.core.cache import cache
from django.db import transaction

from ..models import Bed
from ..signals import bed_status_changed

# A queued refresh that never ran (a lost task) stops blocking new ones after this long.
PENDING_TTL = 30


def _pending_key(hospital_id: int, kind: str) -> str:
    return f"beds:availability-pending:{hospital_id}:{kind}"


def bed_changed(bed: Bed) -> None:
    """After commit (never for a rolled-back change): have the hospital's board figures refreshed."""
    hospital_id, kind = bed.hospital_id, bed.kind
    transaction.on_commit(lambda: availability_refresh_soon(hospital_id, kind), robust=True)


def availability_refresh_soon(hospital_id: int, kind: str) -> None:
    if cache.add(_pending_key(hospital_id, kind), 1, timeout=PENDING_TTL):
        from ..tasks import refresh_availability

        refresh_availability.delay(hospital_id, kind)


def refresh_and_announce(hospital_id: int, kind: str) -> None:
    """The task's work: recount, store, raise or resolve occupancy alerts, tell the live boards."""
    from .availability import availability_refresh

    cache.delete(_pending_key(hospital_id, kind))
    availability_refresh(hospital_id=hospital_id, kinds={kind})
    bed_status_changed.send(sender=Bed, hospital_id=hospital_id)
