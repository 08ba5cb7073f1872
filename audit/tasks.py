"""Scheduled audit job (CELERY_BEAT_SCHEDULE): link newly committed events into the hash chain."""

import logging

from celery import shared_task

from hospital.tasks import task_context

from .chain import seal_pending

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def seal_chain() -> int:
    # Idempotent: a second sealer waits for the head lock, then finds nothing left to seal.
    with task_context("audit.seal_chain"):
        sealed = seal_pending()
    if sealed:
        log.info("sealed %s audit event(s)", sealed)
    return sealed
