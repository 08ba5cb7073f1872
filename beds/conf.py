from datetime import timedelta

from django.conf import settings


def hold_duration() -> timedelta:
    return timedelta(minutes=getattr(settings, "BED_HOLD_MINUTES", 30))
