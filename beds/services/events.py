"""Tell the rest of the platform (board aggregate, live boards, alerts) about bed changes, after commit."""

from django.db import transaction

from ..models import Bed
from ..signals import bed_status_changed


def bed_changed(bed: Bed) -> None:
    """After commit (never for a rolled-back change): refresh the hospital's board figures, then announce them."""
    hospital_id, kind = bed.hospital_id, bed.kind
    transaction.on_commit(lambda: _refresh_and_announce(hospital_id, kind))


def _refresh_and_announce(hospital_id: int, kind: str) -> None:
    from .availability import availability_refresh

    availability_refresh(hospital_id=hospital_id, kinds={kind})
    bed_status_changed.send(sender=Bed, hospital_id=hospital_id)
