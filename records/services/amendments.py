"""Amendments: the patient asks for a record (or their details) to be amended; a doctor or nurse
caring for them accepts or denies the request, once."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..models import AMENDABLE_MODELS, Amendment, AmendmentStatus, Patient
from ..permissions import can_decide_amendment, is_own_record
from .common import PatientError

MAX_AMENDMENT_CHARS = 5000


@transaction.atomic
def amendment_request(*, actor: User, patient: Patient, target=None, text: str) -> Amendment:
    """The patient asks for a record of theirs (or, with no target, their details) to be amended.

    Only the patient themself may ask. The request waits for a doctor or nurse caring for them."""
    if not is_own_record(user=actor, patient=patient):
        raise PatientError("Only the patient can request amendments to their record.")
    text = (text or "").strip()
    if not text:
        raise PatientError("Say what should be amended and why.")
    if len(text) > MAX_AMENDMENT_CHARS:
        raise PatientError(f"Keep the request to {MAX_AMENDMENT_CHARS} characters.")
    amendment = Amendment(patient=patient, requested_by=actor, text=text)
    if target is not None:
        from django.contrib.contenttypes.models import ContentType

        target_type = ContentType.objects.get_for_model(type(target))
        if (
            target_type.app_label != "records"
            or target_type.model not in AMENDABLE_MODELS
            or target.pk is None
            or target.patient_id != patient.pk
        ):
            raise PatientError("Choose one of your own records, or your details.")
        amendment.target_type, amendment.target_id = target_type, target.pk
    amendment.created_at = timezone.now()
    amendment.digest = amendment.compute_digest()
    amendment.full_clean(exclude=["patient", "requested_by", "target_type"])
    amendment.save()
    return amendment


@transaction.atomic
def amendment_decide(*, actor: User, amendment_id: int, accept: bool, reason: str = "") -> Amendment:
    """A doctor or nurse with access to the patient's full record accepts or denies a request, once.

    A denial needs a reason, which the patient sees. The row is locked so two clinicians deciding
    at the same moment cannot both decide; the second is told it was already decided."""
    from cryptography.fernet import InvalidToken

    # Lock without decrypting first: who may decide is answered before any ciphertext is read.
    locked = Amendment.objects.select_for_update().filter(pk=amendment_id).only("id", "patient_id").first()
    if locked is None:
        raise PatientError("That amendment request does not exist.")
    if not can_decide_amendment(user=actor, patient=locked.patient):
        raise PatientError("Only a doctor or nurse with access to this patient's full record can decide amendments.")
    try:
        amendment = Amendment.objects.get(pk=locked.pk)
    except (InvalidToken, ValueError, TypeError):  # a ciphertext that no longer decrypts
        amendment = None
    if amendment is not None and amendment.requested_by_id == actor.pk:
        raise PatientError("You cannot decide on your own request.")
    if amendment is not None and amendment.status != AmendmentStatus.REQUESTED:
        raise PatientError("This amendment request has already been decided.")
    if amendment is None or not amendment.verify():
        raise PatientError("This amendment request failed its integrity check. Tell IT security.")
    reason = (reason or "").strip()
    if not accept and not reason:
        raise PatientError("Give the reason for the denial; the patient will see it.")
    if len(reason) > MAX_AMENDMENT_CHARS:
        raise PatientError(f"Keep the reason to {MAX_AMENDMENT_CHARS} characters.")
    amendment.status = AmendmentStatus.ACCEPTED if accept else AmendmentStatus.DENIED
    amendment.denial_reason = "" if accept else reason
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.digest = amendment.compute_digest()
    amendment.full_clean(exclude=["patient", "requested_by", "target_type", "decided_by"])
    amendment.save(update_fields=["status", "denial_reason", "decided_by", "decided_at", "digest"])
    return amendment
