from .admissions import (
    BookingError,
    admission_book,
    admission_cancel_hold,
    admission_confirm_hold,
    admission_discharge,
    admission_hold,
    admission_transfer,
    holds_release_expired,
)
from .capacity import CapacityError, bed_create, bed_set_status, ward_create, ward_set_active

__all__ = [
    "BookingError",
    "CapacityError",
    "admission_book",
    "admission_cancel_hold",
    "admission_confirm_hold",
    "admission_discharge",
    "admission_hold",
    "admission_transfer",
    "bed_create",
    "bed_set_status",
    "holds_release_expired",
    "ward_create",
    "ward_set_active",
]
