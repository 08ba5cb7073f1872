from .mfa import BackupCode, BackupCodeDevice, TOTPDevice
from .security import AccountLock, LoginFailure, PasswordHistory, UserSession
from .users import Hospital, User

__all__ = [
    "AccountLock",
    "BackupCode",
    "BackupCodeDevice",
    "Hospital",
    "LoginFailure",
    "PasswordHistory",
    "TOTPDevice",
    "User",
    "UserSession",
]
