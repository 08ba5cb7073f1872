"""Signals accounts sends for other apps."""

from django.dispatch import Signal

# A signed-in session ended (sign-out, revoked, expired, MFA reset): kwargs session_key.
# Long-lived connections opened by that session (live boards) close on it.
session_ended = Signal()
