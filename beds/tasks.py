"""Scheduled bed jobs (CELERY_BEAT_SCHEDULE). No arguments; both are idempotent."""

import logging

from celery import shared_task

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
