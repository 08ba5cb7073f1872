"""Bed jobs: the scheduled ones (CELERY_BEAT_SCHEDULE, no arguments) and the board refresh. All idempotent."""

import logging

from celery import shared_task
from django.db import transaction

from hospital.tasks import task_context

from .notify import holds_notify_expiring
from .services import holds_release_expired

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def release_expired_holds() -> int:
    with task_context("beds.release_expired_holds"):
        released = holds_release_expired()
    if released:
        log.info("released %s expired hold(s)", released)
    return released


@shared_task(ignore_result=True)
def notify_expiring_holds() -> int:
    with task_context("beds.notify_expiring_holds"):
        announced = holds_notify_expiring()
    if announced:
        log.info("announced %s hold(s) about to expire", announced)
    return announced


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=30, max_retries=5)
def refresh_availability(hospital_id: int, kind: str) -> None:
    """Recount one hospital's beds of one kind for the board (queued after bed changes; idempotent)."""
    from .services.events import refresh_and_announce

    with task_context("beds.refresh_availability"):
        refresh_and_announce(hospital_id, kind)


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=60, max_retries=5)
def announce_admission(admission_id: int, event: str, also_hospital_id: int | None = None) -> int:
    """Write the inbox notifications of one admission event (queued after the event's commit)."""
    from .notify import admission_announce

    with task_context("beds.announce_admission"), transaction.atomic():
        return admission_announce(admission_id, event, also_hospital_id=also_hospital_id)
