"""Push board changes to connected browsers (after commit; receivers of beds' own signals)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from . import selectors
from .consumers import PUBLIC_GROUP, STAFF_GROUP, session_group_name
from .models import EmergencyAlert

log = logging.getLogger(__name__)


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a board that misses one push still has the page's figures; log, don't fail the booking
        log.exception("could not push a board update to %s", group)


def on_bed_status_changed(sender, hospital_id: int, **kwargs) -> None:
    entries = selectors.availability_board(hospital_id=hospital_id)
    if not entries:
        return
    entry = entries[0]
    message = {"type": "board.availability", "entry": entry}
    _send(STAFF_GROUP, message)
    _send(PUBLIC_GROUP, message)


def on_alert_raised(sender, alert_id: int, **kwargs) -> None:
    alert = EmergencyAlert.objects.filter(pk=alert_id).first()
    if alert is None:
        return
    payload = {"id": alert.pk, "message": alert.message, "scope": alert.scope, "region": alert.region}
    _send(STAFF_GROUP, {"type": "board.alert", "alert": payload})


def on_session_ended(sender, session_key: str, **kwargs) -> None:
    """Close the live boards a session opened: they must not outlive it."""
    _send(session_group_name(session_key), {"type": "session.ended"})
