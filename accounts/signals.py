"""Signals accounts sends; the audit app turns them into rows."""

from django.dispatch import Signal

# lock: AccountLock
account_locked = Signal()
# user, actor
account_unlocked = Signal()
# user, device, actor
mfa_device_added = Signal()
mfa_device_removed = Signal()
# user, actor
mfa_reset = Signal()
backup_codes_regenerated = Signal()
