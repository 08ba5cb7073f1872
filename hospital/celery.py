import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hospital.settings.local")

app = Celery("hospital")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_tokens: dict[str, object] = {}


@signals.task_prerun.connect
def _bind_task_context(task_id=None, task=None, **kwargs) -> None:
    """Every task acts as itself in the audit trail (task:<name>), whatever it calls."""
    from . import context

    ctx = context.RequestContext(username=f"task:{task.name}", origin=f"task:{task.name}")
    _tokens[task_id] = context._current.set(ctx)


@signals.task_postrun.connect
def _unbind_task_context(task_id=None, **kwargs) -> None:
    from . import context

    token = _tokens.pop(task_id, None)
    if token is not None:
        context._current.reset(token)
