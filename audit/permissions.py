"""Who may read the audit trail: privacy officers, auditors and administrators."""


def can_view_audit(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm("audit.view_auditevent")))


def can_export_audit(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.has_perm("audit.export_auditevent")))
