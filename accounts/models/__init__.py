from .mfa import BackupCode, BackupCodeDevice, TOTPDevice
from .notifications import Notification
from .security import AccountLock, LoginFailure, PasswordHistory, UserSession
from .users import Hospital, User

__all__ = [
    "AccountLock",
    "BackupCode",
    "BackupCodeDevice",
    "Hospital",
    "LoginFailure",
    "Notification",
    "PasswordHistory",
    "TOTPDevice",
    "User",
    "UserSession",
]
