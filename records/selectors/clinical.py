"""Clinical records read for the chart: decrypted by hand and checked against their digest, and
what the chart shows of each (nothing but its id, time and status when the check fails)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.db.models import BinaryField, ExpressionWrapper, F

from ..models import Diagnosis, Patient


@dataclass
class DiagnosisView:
    id: int
    code: str
    text: str | None
    created_at: object
    author: str
    intact: bool
    amendments: list = field(default_factory=list)


def _verified(model, patient: Patient, secret: str):
    """Rows of `model` for the patient, the encrypted `secret` field decrypted by hand and each row
    checked against its digest: (row, intact). A bad row is reported, never shown, and cannot break
    the others (a broken ciphertext would abort the whole query if the ORM decrypted it)."""
    field = model._meta.get_field(secret)
    rows = (
        model.objects.filter(patient=patient)
        .select_related("author")
        .defer(secret, "author__phone")  # only the author's name is shown: no decrypting their phone
        .annotate(raw_secret=ExpressionWrapper(F(secret), output_field=BinaryField()))
        .order_by("-created_at", "-id")
    )
    for row in rows:
        try:
            value = field.fernet.decrypt(bytes(row.raw_secret)).decode() if row.raw_secret is not None else ""
        except (InvalidToken, ValueError, TypeError):
            yield row, False
            continue
        row.__dict__[secret] = value  # fill the deferred field without another query
        yield row, row.verify()


# What the chart shows of one record: (row, intact) -> a DiagnosisView or a dict. A record that fails
# its check shows only its id, time (and status), never its content.


def _diagnosis_item(row, intact: bool) -> DiagnosisView:
    return DiagnosisView(
        id=row.pk,
        code=row.code,
        text=row.text if intact else None,
        created_at=row.created_at,
        author=row.author.get_username(),
        intact=intact,
    )


def _simple_item(row, intact: bool, shown: tuple[str, ...]) -> dict:
    item = {"id": row.pk, "intact": intact, "created_at": row.created_at}
    if intact:
        item.update({name: getattr(row, name) for name in shown}, author=row.author.get_username())
    return item


def _lab_item(row, intact: bool) -> dict:
    item = {"id": row.pk, "intact": intact, "created_at": row.created_at, "status": row.status}
    if intact:
        item.update(test=row.test, result=row.result, reference_range=row.reference_range)
    return item


def _prescription_item(row, intact: bool) -> dict:
    item = {"id": row.pk, "intact": intact, "created_at": row.created_at, "status": row.status}
    if intact:
        item.update(
            medication=row.medication,
            dose=row.dose,
            frequency=row.frequency,
            duration_days=row.duration_days,
            instructions=row.instructions,
            author=row.author.get_username(),
        )
    return item


_NOTE_SHOWN = ("text",)


_ALLERGY_SHOWN = ("substance", "severity", "reaction")


def _diagnoses(patient: Patient) -> list[DiagnosisView]:
    return [_diagnosis_item(row, intact) for row, intact in _verified(Diagnosis, patient, "text")]


def _simple(model, patient: Patient, secret: str, shown: tuple[str, ...]) -> list[dict]:
    return [_simple_item(row, intact, shown) for row, intact in _verified(model, patient, secret)]


def _lab_tests(patient: Patient) -> list[dict]:
    from ..models import LabTest

    return [_lab_item(row, intact) for row, intact in _verified(LabTest, patient, "result")]


def _prescriptions(patient: Patient) -> list[dict]:
    from ..models import Prescription

    return [_prescription_item(row, intact) for row, intact in _verified(Prescription, patient, "instructions")]


def chart_item(record) -> DiagnosisView | dict:
    """One clinical record exactly as the chart shows it (the same fields, nothing more), checked
    against its digest: what the API answers with after the record was written. No query (the author
    is the writer, already loaded), and no audit row of its own: the write is audited."""
    intact = record.verify()
    builders = {
        "diagnosis": _diagnosis_item,
        "prescription": _prescription_item,
        "labtest": _lab_item,
        "clinicalnote": lambda row, ok: _simple_item(row, ok, _NOTE_SHOWN),
        "allergy": lambda row, ok: _simple_item(row, ok, _ALLERGY_SHOWN),
    }
    item = builders[record._meta.model_name](record, intact)
    if isinstance(item, dict):
        item["amendments"] = []  # a record just written has none yet (DiagnosisView starts empty)
    return item
