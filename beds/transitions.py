"""The one place that says which bed status may follow which."""

from .models import BedStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.AVAILABLE: frozenset({S.OCCUPIED, S.RESERVED, S.CLEANING, S.CLOSED, S.ISOLATED}),
    S.RESERVED: frozenset({S.OCCUPIED, S.AVAILABLE}),
    S.OCCUPIED: frozenset({S.CLEANING}),
    S.CLEANING: frozenset({S.AVAILABLE, S.CLOSED}),
    S.CLOSED: frozenset({S.AVAILABLE, S.CLEANING}),
    S.ISOLATED: frozenset({S.AVAILABLE, S.CLEANING, S.CLOSED}),
}

# Statuses that only admissions set (book, hold, confirm); staff cannot set them by hand.
ADMISSION_ONLY = frozenset({S.OCCUPIED, S.RESERVED})


class InvalidTransition(Exception):
    def __init__(self, current: str, new: str):
        self.current, self.new = current, new
        super().__init__(f"A bed that is {S(current).label.lower()} cannot become {S(new).label.lower()}.")


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(current, new)
