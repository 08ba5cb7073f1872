"""Who may do what, for accounts. Pages, API and admin ask here."""

from .models import User
from .roles import Role


def mfa_satisfied(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_verified():
        return True
    from .services.auth import user_has_mfa

    return not user.requires_mfa and not user_has_mfa(user=user)


def can_manage_security(user: User) -> bool:
    """IT security (and system admins): see lock-outs, unlock accounts, reset MFA."""
    return user.is_authenticated and (
        user.is_superuser or user.has_role(Role.IT_SECURITY) or user.has_role(Role.SYSTEM_ADMIN)
    )


def can_unlock(actor: User, target: User) -> bool:
    return can_manage_security(actor) and actor.has_perm("accounts.unlock_account") and actor.pk != target.pk


def can_reset_mfa(actor: User, target: User) -> bool:
    return can_manage_security(actor) and actor.has_perm("accounts.reset_mfa") and actor.pk != target.pk
