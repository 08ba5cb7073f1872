"""Signals other apps send; audit turns each into a row in the sender's transaction.

phi_accessed: a read, query, export or print of patient data, or a denied attempt.
    kwargs: action ("view", "query", "export", "print", "break_glass"), category, patient_id=None,
    obj=None (or content_type/object_id/object_label), outcome="success"|"denied", reason="".

security_event: something about an account that is not a plain model change.
    kwargs: action (e.g. "mfa_enrolled", "mfa_reset", "locked_out", "unlocked"), subject (the user
    concerned), object_label="", reason="", changes=None.
"""

from django.dispatch import Signal

phi_accessed = Signal()
security_event = Signal()
