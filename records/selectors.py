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


def _verified(model, patient: Patient, secret: str):
    """Rows of `model` for the patient, the encrypted `secret` field decrypted by hand and each row
    checked against its digest: (row, intact). A bad row is reported, never shown, and cannot break
    the others (a broken ciphertext would abort the whole query if the ORM decrypted it)."""
    field = model._meta.get_field(secret)
    rows = (
        model.objects.filter(patient=patient)
        .select_related("author")
        .defer(secret)
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


def _diagnoses(patient: Patient) -> list[DiagnosisView]:
    return [
        DiagnosisView(
            id=row.pk,
            code=row.code,
            text=row.text if intact else None,
            created_at=row.created_at,
            author=row.author.get_username(),
            intact=intact,
        )
        for row, intact in _verified(Diagnosis, patient, "text")
    ]


def _simple(model, patient: Patient, secret: str, shown: tuple[str, ...]) -> list[dict]:
    result = []
    for row, intact in _verified(model, patient, secret):
        item = {"id": row.pk, "intact": intact, "created_at": row.created_at}
        if intact:
            item.update({name: getattr(row, name) for name in shown}, author=row.author.get_username())
        result.append(item)
    return result


def _lab_tests(patient: Patient) -> list[dict]:
    from .models import LabTest

    result = []
    for row, intact in _verified(LabTest, patient, "result"):
        item = {"id": row.pk, "intact": intact, "created_at": row.created_at, "status": row.status}
        if intact:
            item.update(test=row.test, result=row.result, reference_range=row.reference_range)
        result.append(item)
    return result


def _prescriptions(patient: Patient) -> list[dict]:
    from .models import Prescription

    result = []
    for row, intact in _verified(Prescription, patient, "instructions"):
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
        result.append(item)
    return result


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
        intact = item.intact if isinstance(item, DiagnosisView) else item["intact"]
        if not intact:
            item_id = item.id if isinstance(item, DiagnosisView) else item["id"]
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
    from .models import Allergy, Appointment, ClinicalNote, Document

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
            .order_by("-starts_at")[:50]
        )
    if "diagnoses" in parts:
        chart["diagnoses"] = _diagnoses(patient)
        chart["notes"] = _simple(ClinicalNote, patient, "text", ("text",))
        chart["allergies"] = _simple(Allergy, patient, "reaction", ("substance", "severity", "reaction"))
        chart["documents"] = list(
            Document.objects.filter(patient=patient).select_related("uploaded_by").order_by("-created_at")
        )
        _audit_section(
            user=user,
            patient=patient,
            category="diagnosis",
            label="diagnoses",
            items=chart["diagnoses"],
            name="diagnosis",
        )
        _audit_section(
            user=user,
            patient=patient,
            category="clinical_note",
            label="notes",
            items=chart["notes"],
            name="clinical note",
        )
        _audit_section(
            user=user,
            patient=patient,
            category="clinical_note",
            label="allergies",
            items=chart["allergies"],
            name="allergy",
        )
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


def _accessible(*, user: User, **filters) -> list[Patient]:
    """Patients matching `filters` that the user holds a live grant for. One query."""
    from django.utils import timezone

    return list(
        Patient.objects.filter(
            grants__grantee=user, grants__revoked_at__isnull=True, grants__expires_at__gt=timezone.now(), **filters
        )
        .distinct()
        .order_by("mrn")
    )


def accessible_patients_by_name(*, user: User, name: str) -> list[Patient]:
    """Name search (blind index) limited to patients the user holds a live grant for."""
    from hospital.crypto import blind_index

    if not (name or "").strip():
        return []
    return _accessible(user=user, name_index=blind_index(name, purpose="patient.name"))


def patients_by_phone(*, user: User, phone: str) -> list[Patient]:
    """Phone search (blind index of the digits) limited to patients the user holds a live grant for."""
    from hospital.crypto import blind_index

    from .services import phone_digits

    digits = phone_digits(phone)
    if len(digits) < 6:
        return []
    return _accessible(user=user, phone_index=blind_index(digits, purpose="patient.phone"))


_PATIENT_PHI = (
    "patient__name",
    "patient__date_of_birth",
    "patient__phone",
    "patient__email",
    "patient__address",
    "patient__emergency_contact",
)


def _hospital_queue(*, user: User, model, status: str, secrets: tuple[str, ...], category: str, label: str) -> list:
    """Work waiting at the user's hospital, oldest first: record numbers, never names. One query."""
    if user.hospital_id is None:
        return []
    rows = list(
        model.objects.filter(hospital_id=user.hospital_id, status=status)
        .select_related("patient", "author")
        .defer(*secrets, *_PATIENT_PHI)
        .order_by("created_at", "id")[:200]
    )
    if rows:
        phi_accessed.send(
            sender=_hospital_queue,
            action="query",
            category=category,
            object_label=f"{label} of hospital {user.hospital_id}",
            reason=f"{len(rows)} item(s)",
            actor=user,
        )
    return rows


def pharmacy_queue(*, user: User) -> list:
    from .models import Prescription, PrescriptionStatus

    return _hospital_queue(
        user=user,
        model=Prescription,
        status=PrescriptionStatus.PRESCRIBED,
        secrets=("instructions",),
        category="prescription",
        label="pharmacy queue",
    )


def lab_queue(*, user: User) -> list:
    from .models import LabStatus, LabTest

    return _hospital_queue(
        user=user,
        model=LabTest,
        status=LabStatus.ORDERED,
        secrets=("result", "reference_range"),
        category="lab_result",
        label="lab queue",
    )
