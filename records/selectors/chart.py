"""The chart (what a user may see of a patient's record, with accepted amendments under the records
they amend) and the patient's own record page. Every section shown is audited."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.signals import phi_accessed

from ..models import AmendmentStatus, Patient
from ..permissions import can_decide_amendment, record_parts
from .amendments import _RECORD_NAMES, AmendmentView, _amendments, amendable_records
from .clinical import _ALLERGY_SHOWN, _NOTE_SHOWN, _diagnoses, _lab_tests, _prescriptions, _simple


def _audit_section(*, user: User, patient: Patient, category: str, label: str, items: list, name) -> None:
    """One view row for a chart section, and one denied row per record that failed its digest."""
    phi_accessed.send(
        sender=patient_chart,
        action="view",
        category=category,
        patient_id=patient.pk,
        object_label=f"{label} of patient {patient.mrn}",
        actor=user,
    )
    for item in items:
        intact = item["intact"] if isinstance(item, dict) else item.intact
        if not intact:
            item_id = item["id"] if isinstance(item, dict) else item.id
            phi_accessed.send(
                sender=patient_chart,
                action="view",
                category=category,
                patient_id=patient.pk,
                object_label=f"{name} {item_id}",
                outcome="denied",
                actor=user,
                reason="integrity check failed: the stored record does not match its digest",
            )


def patient_chart(*, user: User, patient: Patient) -> dict | None:
    """What `user` may see of the patient's chart, audited; None when they may see nothing."""
    from ..models import Allergy, Appointment, ClinicalNote, Document

    parts = record_parts(user=user, patient=patient)
    if not parts:
        phi_accessed.send(
            sender=patient_chart,
            action="view",
            category="demographics",
            patient_id=patient.pk,
            object_label=f"chart of patient {patient.mrn}",
            outcome="denied",
            actor=user,
        )
        return None
    chart = {
        "patient": patient,
        "parts": parts,
        "diagnoses": [],
        "prescriptions": [],
        "lab": [],
        "notes": [],
        "allergies": [],
    }
    _audit_section(user=user, patient=patient, category="demographics", label="chart", items=[], name="")
    if "demographics" in parts:
        chart["appointments"] = list(
            Appointment.objects.filter(patient=patient)
            .select_related("clinician", "hospital")
            .defer("clinician__phone")  # only names are shown: no decrypting their phones
            .order_by("-starts_at")[:50]
        )
    if "diagnoses" in parts:
        chart["diagnoses"] = _diagnoses(patient)
        chart["notes"] = _simple(ClinicalNote, patient, "text", _NOTE_SHOWN)
        chart["allergies"] = _simple(Allergy, patient, "reaction", _ALLERGY_SHOWN)
        chart["documents"] = list(
            Document.objects.filter(patient=patient)
            .select_related("uploaded_by")
            .defer("uploaded_by__phone")
            .order_by("-created_at")
        )
        for key, category, label, name in (
            ("diagnoses", "diagnosis", "diagnoses", "diagnosis"),
            ("notes", "clinical_note", "notes", "clinical note"),
            ("allergies", "clinical_note", "allergies", "allergy"),
        ):
            _audit_section(user=user, patient=patient, category=category, label=label, items=chart[key], name=name)
    if "lab" in parts:
        chart["lab"] = _lab_tests(patient)
        _audit_section(
            user=user, patient=patient, category="lab_result", label="lab tests", items=chart["lab"], name="lab test"
        )
    if "prescriptions" in parts:
        chart["prescriptions"] = _prescriptions(patient)
        _audit_section(
            user=user,
            patient=patient,
            category="prescription",
            label="prescriptions",
            items=chart["prescriptions"],
            name="prescription",
        )
    _chart_amendments(user=user, patient=patient, chart=chart)
    return chart


def my_record(*, user: User, patient: Patient) -> dict:
    """The patient's own page: who may see the record, consent codes, amendment requests (and the
    records they may be about), documents. Audited like any other read of the record."""
    from ..models import AccessGrant, ConsentCode, Document

    now = timezone.now()
    grants = list(
        AccessGrant.objects.filter(patient=patient, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("grantee")
        .defer("grantee__phone")
    )
    codes = list(ConsentCode.objects.filter(patient=patient).order_by("-created_at")[:20])
    records = amendable_records(patient=patient)
    labels = dict(records)
    amendments = _amendments(patient=patient)
    for amendment in amendments:
        amendment.target_label = labels.get(amendment.target_key, "a record")
    documents = list(
        Document.objects.filter(patient=patient)
        .select_related("uploaded_by")
        .defer("uploaded_by__phone")
        .order_by("-created_at", "-id")[:200]
    )
    _audit_section(user=user, patient=patient, category="demographics", label="own record page", items=[], name="")
    _audit_section(
        user=user, patient=patient, category="clinical_note", label="amendments", items=amendments, name="amendment"
    )
    _audit_section(user=user, patient=patient, category="document", label="documents", items=[], name="")
    return {
        "patient": patient,
        "grants": grants,
        "codes": codes,
        "now": now,
        "amendable": records,
        "amendments": amendments,
        "documents": documents,
    }


# Chart sections, the part of the record that opens them, and the model of their items.
_AMENDED_SECTIONS = (
    ("diagnoses", "diagnoses", "diagnosis"),
    ("notes", "diagnoses", "clinicalnote"),
    ("allergies", "diagnoses", "allergy"),
    ("lab", "lab", "labtest"),
    ("prescriptions", "prescriptions", "prescription"),
)


def _chart_amendments(*, user: User, patient: Patient, chart: dict) -> None:
    """Append accepted amendments to the records they target (only in sections the user may see),
    and list pending requests for those who decide them. One query, audited when anything is shown."""
    parts = chart["parts"]
    deciding = can_decide_amendment(user=user, patient=patient, parts=parts)
    models = [model for _, part, model in _AMENDED_SECTIONS if part in parts]
    targets = Q(target_type__model__in=models) if models else Q(pk__in=[])
    if "demographics" in parts:
        targets |= Q(target_type__isnull=True)
    statuses = (AmendmentStatus.ACCEPTED, AmendmentStatus.REQUESTED) if deciding else (AmendmentStatus.ACCEPTED,)
    amendments = _amendments(patient=patient, statuses=statuses, targets=targets)
    accepted: dict[str, list[AmendmentView]] = {}
    for amendment in reversed(amendments):  # oldest first under each record
        if amendment.status == AmendmentStatus.ACCEPTED:
            accepted.setdefault(amendment.target_key, []).append(amendment)
    labels = {"": "Patient details"}
    for section, part, model in _AMENDED_SECTIONS:
        if part not in parts:
            continue
        title, shown = _RECORD_NAMES[model]
        for item in chart[section]:
            is_dict = isinstance(item, dict)
            item_id = item["id"] if is_dict else item.id
            found = accepted.get(f"{model}:{item_id}", [])
            if is_dict:
                item["amendments"] = found
            else:
                item.amendments = found
            value = (item.get(shown) if is_dict else getattr(item, shown, None)) if shown else None
            labels[f"{model}:{item_id}"] = f"{title} {value}" if value else f"{title} #{item_id}"
    chart["details_amendments"] = accepted.get("", []) if "demographics" in parts else []
    chart["pending_amendments"] = [a for a in amendments if a.status == AmendmentStatus.REQUESTED]
    for amendment in chart["pending_amendments"]:
        amendment.target_label = labels.get(amendment.target_key, "a record")
    chart["can_decide_amendments"] = deciding
    if amendments:
        _audit_section(
            user=user, patient=patient, category="clinical_note", label="amendments", items=amendments, name="amendment"
        )
