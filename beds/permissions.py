"""Who may see and act on beds. Pages, API and admin ask here."""

from accounts.models import User
from accounts.roles import Role

_WARD_ROLES = {Role.NURSE, Role.DOCTOR, Role.HOSPITAL_STAFF, Role.HOSPITAL_ADMIN}


def can_view_board(user: User) -> bool:
    return user.is_authenticated and user.is_staff_member


def is_coordinator(user: User) -> bool:
    return user.is_superuser or user.has_role(Role.EMERGENCY_COORDINATOR)


def can_act_in_hospital(user: User, hospital_id: int) -> bool:
    """Book, hold, transfer, discharge and housekeeping in this hospital."""
    if not user.is_authenticated:
        return False
    if is_coordinator(user):
        return True
    return user.hospital_id == hospital_id and any(user.has_role(r) for r in _WARD_ROLES)


def can_edit_capacity(user: User, hospital_id: int) -> bool:
    """Add, close or reopen wards and beds: the hospital's own admins (and system admins)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_role(Role.SYSTEM_ADMIN):
        return True
    return user.hospital_id == hospital_id and user.has_role(Role.HOSPITAL_ADMIN)


def can_broadcast_alert(user: User) -> bool:
    return user.is_authenticated and is_coordinator(user)
