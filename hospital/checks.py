from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def encryption_keys_configured(app_configs, **kwargs):
    problems = []
    keys = getattr(settings, "FERNET_KEYS", None)
    if not keys:
        problems.append(
            Error(
                "FERNET_KEYS is not set: encrypted fields would fall back to SECRET_KEY.",
                hint="Set FERNET_KEYS to a comma-separated list of keys, newest first.",
                id="hospital.E001",
            )
        )
    elif settings.SECRET_KEY in keys:
        problems.append(Error("FERNET_KEYS must not contain SECRET_KEY.", id="hospital.E002"))
    if not getattr(settings, "BLIND_INDEX_KEY", ""):
        problems.append(Error("BLIND_INDEX_KEY is not set.", id="hospital.E003"))
    return problems


@register(Tags.security, deploy=True)
def broker_configured(app_configs, **kwargs):
    if not settings.DEBUG and not settings.CELERY_BROKER_URL:
        return [
            Warning(
                "CELERY_BROKER_URL is not set: notifications and scheduled jobs run inside web requests.",
                hint="Point CELERY_BROKER_URL at RabbitMQ or Redis and run a worker and beat.",
                id="hospital.W001",
            )
        ]
    return []


@register(deploy=True)
def live_updates_reach_browsers(app_configs, **kwargs):
    """With a worker, the board's recounts are announced from the worker's process: an in-memory
    channel layer would keep them there, and the live boards would stop updating."""
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if settings.CELERY_BROKER_URL and backend.endswith("InMemoryChannelLayer"):
        return [
            Warning(
                "CELERY_BROKER_URL is set but CHANNEL_LAYER_URL is not: live board updates sent by the worker "
                "never reach the browsers.",
                hint="Set CHANNEL_LAYER_URL=redis://... for the web processes and the worker.",
                id="hospital.W002",
            )
        ]
    return []
