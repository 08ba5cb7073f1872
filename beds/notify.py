"""Who hears about an admission event. Called by the services inside their transaction."""

from .models import Admission


def admission_event(admission: Admission, event: str) -> None:
    """event: booked, held, confirmed, transferred, discharged, hold_released, hold_expiring."""
