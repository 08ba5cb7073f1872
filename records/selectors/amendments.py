"""Amendment requests: the records a patient may ask to amend, and the requests themselves, decrypted
by hand and checked against their digest."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.db.models import BinaryField, ExpressionWrapper, F, Q
from django.utils import timezone

from ..models import AMENDABLE_MODELS, AmendmentStatus, Patient

# How a record is named to the patient choosing what to amend: the model, and its unencrypted field.
_RECORD_NAMES = {
    "diagnosis": ("Diagnosis", "code"),
    "prescription": ("Prescription", "medication"),
    "labtest": ("Lab test", "test"),
    "clinicalnote": ("Clinical note", None),
    "allergy": ("Allergy", "substance"),
}


DETAILS_LABEL = "My details (name, date of birth, contact)"


def _record_model(name: str):
    from django.apps import apps

    return apps.get_model("records", name)


def amendable_records(*, patient: Patient) -> list[tuple[str, str]]:
    """(key, label) of everything the patient may ask to amend: "" for their details, then
    "<model>:<id>" for each clinical record. Only unencrypted fields are read. One query per kind."""
    choices = [("", DETAILS_LABEL)]
    for model_name in AMENDABLE_MODELS:
        title, shown = _RECORD_NAMES[model_name]
        fields = ["id", "created_at", *([shown] if shown else [])]
        for row in _record_model(model_name).objects.filter(patient=patient).only(*fields).order_by("-created_at"):
            when = f"{timezone.localtime(row.created_at):%Y-%m-%d}"
            label = f"{title} {getattr(row, shown)} of {when}" if shown else f"{title} of {when}"
            choices.append((f"{model_name}:{row.pk}", label))
    return choices


def amendable_record(*, patient: Patient, key: str):
    """The patient's record named by an `amendable_records` key, or None."""
    model_name, _, raw_id = (key or "").partition(":")
    if model_name not in AMENDABLE_MODELS or not raw_id.isdigit() or len(raw_id) > 18:
        return None
    # Ids only: naming the target needs none of its (encrypted) content.
    return _record_model(model_name).objects.filter(patient=patient, pk=int(raw_id)).only("id", "patient_id").first()


@dataclass
class AmendmentView:
    id: int
    target_key: str  # "<model>:<id>", or "" for the patient's details
    status: str
    text: str | None
    denial_reason: str | None
    created_at: object
    decided_at: object
    decided_by: str
    intact: bool
    target_label: str = ""

    @property
    def status_label(self) -> str:
        return AmendmentStatus(self.status).label


def _amendments(
    *, patient: Patient, statuses: tuple[str, ...] | None = None, targets: Q | None = None
) -> list[AmendmentView]:
    """The patient's amendment requests, newest first, decrypted by hand and checked against their
    digest: a tampered row is reported (intact False, no text), never shown. One query."""
    from ..models import Amendment

    text_field = Amendment._meta.get_field("text")
    reason_field = Amendment._meta.get_field("denial_reason")
    rows = (
        Amendment.objects.filter(patient=patient)
        .select_related("target_type", "decided_by")
        .defer("text", "denial_reason")
        .annotate(
            raw_text=ExpressionWrapper(F("text"), output_field=BinaryField()),
            raw_reason=ExpressionWrapper(F("denial_reason"), output_field=BinaryField()),
        )
        .order_by("-created_at", "-id")
    )
    if statuses is not None:
        rows = rows.filter(status__in=statuses)
    if targets is not None:
        rows = rows.filter(targets)
    result = []
    for row in rows:
        try:
            row.__dict__["text"] = text_field.fernet.decrypt(bytes(row.raw_text)).decode()
            row.__dict__["denial_reason"] = (
                reason_field.fernet.decrypt(bytes(row.raw_reason)).decode() if row.raw_reason is not None else ""
            )
            intact = row.verify()
        except (InvalidToken, ValueError, TypeError):
            intact = False
        result.append(
            AmendmentView(
                id=row.pk,
                target_key=f"{row.target_type.model}:{row.target_id}" if row.target_type_id else "",
                status=row.status,
                text=row.text if intact else None,
                denial_reason=row.denial_reason if intact else None,
                created_at=row.created_at,
                decided_at=row.decided_at,
                decided_by=row.decided_by.get_username() if row.decided_by else "",
                intact=intact,
            )
        )
    return result
