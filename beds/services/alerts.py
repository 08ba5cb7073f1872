"""Emergency alerts: broadcast by coordinators, raised automatically on high occupancy."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Hospital, User

from ..models import AlertScope, EmergencyAlert
from ..signals import alert_raised


class AlertError(Exception):
    pass


def alert_published(alert: EmergencyAlert) -> None:
    from ..notify import alert_event

    alert_event(alert)
    transaction.on_commit(lambda: alert_raised.send(sender=EmergencyAlert, alert_id=alert.pk))


@transaction.atomic
def alert_broadcast(
    *, actor: User, message: str, scope: str, region: str = "", hospital: Hospital | None = None
) -> EmergencyAlert:
    message = (message or "").strip()
    if not message:
        raise AlertError("Write the alert message.")
    if len(message) > 300:
        raise AlertError("Keep the alert under 300 characters.")
    if scope not in AlertScope.values:
        raise AlertError("Choose who receives the alert.")
    if scope == AlertScope.REGION and not region.strip():
        raise AlertError("Choose the region.")
    if scope == AlertScope.HOSPITAL and hospital is None:
        raise AlertError("Choose the hospital.")
    alert = EmergencyAlert.objects.create(
        message=message,
        scope=scope,
        region=region.strip() if scope == AlertScope.REGION else (hospital.region if hospital else ""),
        hospital=hospital if scope == AlertScope.HOSPITAL else None,
        created_by=actor,
    )
    alert_published(alert)
    return alert


@transaction.atomic
def alert_resolve(*, actor: User, alert_id: int) -> EmergencyAlert:
    alert = EmergencyAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise AlertError("That alert does not exist.")
    if alert.resolved_at is None:
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["resolved_at"])
    return alert
