"""Tell the rest of the platform (live board, alerts) about bed changes, after commit only."""

from django.db import transaction

from ..models import Bed
from ..signals import bed_status_changed


def bed_changed(bed: Bed) -> None:
    payload = {"bed_id": bed.pk, "hospital_id": bed.hospital_id, "kind": bed.kind, "status": bed.status}
    transaction.on_commit(lambda: bed_status_changed.send(sender=Bed, **payload))
