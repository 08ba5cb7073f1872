from celery import shared_task

from hospital.tasks import task_context


@shared_task
def expire_grants() -> int:
    from .services import grants_expire

    with task_context("records.expire_grants"):
        return grants_expire()
