import contextlib
from collections.abc import Iterator

from celery import shared_task

from . import context


@contextlib.contextmanager
def task_context(name: str) -> Iterator[context.RequestContext]:
    """Tasks act as themselves: audit rows they cause name the task as the actor."""
    with context.bind(context.RequestContext(username=f"task:{name}", origin=f"task:{name}")) as ctx:
        yield ctx


@shared_task
def ping() -> str:
    """Liveness of the worker pool, used by readiness checks and broker tests."""
    return "pong"
