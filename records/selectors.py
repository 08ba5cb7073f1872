"""Reads of patient data, with the permission answer built in and integrity checked on every read."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.db.models import BinaryField, ExpressionWrapper, F

from accounts.models import User
from audit.signals import phi_accessed

from .models import Diagnosis, Patient
from .permissions import record_parts


def patient_by_mrn(*, mrn: str) -> Patient | None:
    return Patient.objects.filter(mrn=(mrn or "").strip().upper()).first()


def patients_by_name(*, name: str) -> list[Patient]:
    """Exact (case- and spacing-insensitive) name search through the blind index."""
    from hospital.crypto import blind_index

    if not (name or "").strip():
        return []
    return list(Patient.objects.filter(name_index=blind_index(name, purpose="patient.name")).order_by("mrn"))


@dataclass
class DiagnosisView:
    id: int
    code: str
    text: str | None
    created_at: object
    author: str
    intact: bool


def _diagnoses(patient: Patient) -> list[DiagnosisView]:
    """Each diagnosis decrypted and checked against its digest; a bad one is reported, never shown."""
    field = Diagnosis._meta.get_field("text")
    rows = (
        Diagnosis.objects.filter(patient=patient)
        .select_related("author")
        .defer("text")
        # The column as stored (no decryption on load), so one bad row cannot break the others.
        .annotate(raw_text=ExpressionWrapper(F("text"), output_field=BinaryField()))
        .order_by("-created_at", "-id")
    )
    result = []
    for row in rows:
        try:
            text = field.fernet.decrypt(bytes(row.raw_text)).decode() if row.raw_text is not None else ""
        except (InvalidToken, ValueError, TypeError):
            text = None
        intact = False
        if text is not None:
            row.__dict__["text"] = text  # fill the deferred field without another query
            intact = row.verify()
        result.append(
            DiagnosisView(
                id=row.pk,
                code=row.code,
                text=text if intact else None,
                created_at=row.created_at,
                author=row.author.get_username(),
                intact=intact,
            )
        )
    return result


def patient_chart(*, user: User, patient: Patient) -> dict | None:
    """What `user` may see of the patient's chart, audited; None when they may see nothing."""
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
    chart = {"patient": patient, "parts": parts, "diagnoses": []}
    phi_accessed.send(
        sender=patient_chart,
        action="view",
        category="demographics",
        patient_id=patient.pk,
        object_label=f"chart of patient {patient.mrn}",
        actor=user,
    )
    if "diagnoses" in parts:
        chart["diagnoses"] = _diagnoses(patient)
        phi_accessed.send(
            sender=patient_chart,
            action="view",
            category="diagnosis",
            patient_id=patient.pk,
            object_label=f"diagnoses of patient {patient.mrn}",
            actor=user,
        )
        for bad in [d for d in chart["diagnoses"] if not d.intact]:
            phi_accessed.send(
                sender=patient_chart,
                action="view",
                category="diagnosis",
                patient_id=patient.pk,
                object_label=f"diagnosis {bad.id}",
                outcome="denied",
                actor=user,
                reason="integrity check failed: the stored record does not match its digest",
            )
    return chart


def my_record(*, patient: Patient) -> dict:
    from django.utils import timezone

    from .models import AccessGrant, ConsentCode

    now = timezone.now()
    grants = list(
        AccessGrant.objects.filter(patient=patient, revoked_at__isnull=True, expires_at__gt=now).select_related(
            "grantee"
        )
    )
    codes = list(ConsentCode.objects.filter(patient=patient).order_by("-created_at")[:20])
    return {"patient": patient, "grants": grants, "codes": codes, "now": now}


def accessible_patients_by_name(*, user: User, name: str) -> list[Patient]:
    """Name search (blind index) limited to patients the user holds a live grant for. Two queries."""
    from django.utils import timezone

    from hospital.crypto import blind_index

    if not (name or "").strip():
        return []
    return list(
        Patient.objects.filter(
            name_index=blind_index(name, purpose="patient.name"),
            grants__grantee=user,
            grants__revoked_at__isnull=True,
            grants__expires_at__gt=timezone.now(),
        )
        .distinct()
        .order_by("mrn")
    )


def patients_by_phone(*, user: User, phone: str) -> list[Patient]:
    """Phone search (blind index of the digits) among the patients the user holds a live grant for."""
    from django.utils import timezone

    from hospital.crypto import blind_index

    from .services import phone_digits

    digits = phone_digits(phone)
    if len(digits) < 6:
        return []
    return list(
        Patient.objects.filter(
            phone_index=blind_index(digits, purpose="patient.phone"),
            grants__grantee=user,
            grants__revoked_at__isnull=True,
            grants__expires_at__gt=timezone.now(),
        )
        .distinct()
        .order_by("mrn")
    )
