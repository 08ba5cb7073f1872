"""Reads of patient data, with the permission answer built in and integrity checked on every read."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from django.db.models import BinaryField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.signals import phi_accessed

from .models import AMENDABLE_MODELS, AmendmentStatus, Appointment, Diagnosis, Patient
from .permissions import can_decide_amendment, can_view_appointments, record_parts


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
    from .models import LabTest

    return [_lab_item(row, intact) for row, intact in _verified(LabTest, patient, "result")]


def _prescriptions(patient: Patient) -> list[dict]:
    from .models import Prescription

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
        chart["notes"] = _simple(ClinicalNote, patient, "text", _NOTE_SHOWN)
        chart["allergies"] = _simple(Allergy, patient, "reaction", _ALLERGY_SHOWN)
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
    _chart_amendments(user=user, patient=patient, chart=chart)
    return chart


def my_record(*, user: User, patient: Patient) -> dict:
    """The patient's own page: who may see the record, consent codes, amendment requests (and the
    records they may be about), documents. Audited like any other read of the record."""
    from .models import AccessGrant, ConsentCode, Document

    now = timezone.now()
    grants = list(
        AccessGrant.objects.filter(patient=patient, revoked_at__isnull=True, expires_at__gt=now).select_related(
            "grantee"
        )
    )
    codes = list(ConsentCode.objects.filter(patient=patient).order_by("-created_at")[:20])
    records = amendable_records(patient=patient)
    labels = dict(records)
    amendments = _amendments(patient=patient)
    for amendment in amendments:
        amendment.target_label = labels.get(amendment.target_key, "a record")
    documents = list(
        Document.objects.filter(patient=patient).select_related("uploaded_by").order_by("-created_at", "-id")[:200]
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


# A phone number is searched only from this many digits on (fewer would match too widely).
PHONE_SEARCH_MIN_DIGITS = 6


def accessible_patients(*, user: User, query: str = "") -> QuerySet[Patient]:
    """The patients `user` holds a live grant for, by record number: nobody can list patients they may
    not see. With `query`, only those whose name matches it exactly (keyed blind index: upper/lower case
    and spacing ignored) or, when it has 6 digits or more, whose phone number has the same digits.

    One query when evaluated. Not audited here: whoever shows the rows calls `patients_listed`."""
    from hospital.crypto import blind_index

    from .services import phone_digits

    patients = (
        Patient.objects.filter(
            grants__grantee=user, grants__revoked_at__isnull=True, grants__expires_at__gt=timezone.now()
        )
        .distinct()
        .order_by("mrn")
    )
    query = (query or "").strip()
    if not query:
        return patients
    match = Q(name_index=blind_index(query, purpose="patient.name"))
    digits = phone_digits(query)
    if len(digits) >= PHONE_SEARCH_MIN_DIGITS:
        match |= Q(phone_index=blind_index(digits, purpose="patient.phone"))
    return patients.filter(match)


def patients_listed(*, user: User, count: int, searched: bool) -> None:
    """Audit a list of `count` patients (record numbers and names: demographics) shown to `user`: one
    query row. The search terms are never recorded (a name or a phone number is itself PHI)."""
    if not count:
        return
    phi_accessed.send(
        sender=accessible_patients,
        action="query",
        category="demographics",
        object_label="patient search" if searched else "my patients",
        reason=f"{count} patient(s)",
        actor=user,
    )


def _accessible(*, user: User, **filters) -> list[Patient]:
    """Patients matching `filters` that the user holds a live grant for. One query."""
    return list(accessible_patients(user=user).filter(**filters))


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
        .defer(*secrets, *_PATIENT_PHI, "author__phone")
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


# --- amendments ---------------------------------------------------------------------------------

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
    from .models import Amendment

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


# --- appointments -------------------------------------------------------------------------------


def appointments_for_patient(*, user: User, patient: Patient) -> QuerySet[Appointment] | None:
    """The patient's appointments, newest first, for those who may see them (audited); None (and a
    denied audit row) for everyone else."""
    allowed = can_view_appointments(user=user, patient=patient)
    phi_accessed.send(
        sender=appointments_for_patient,
        action="view",
        category="demographics",
        patient_id=patient.pk,
        object_label=f"appointments of patient {patient.mrn}",
        outcome="success" if allowed else "denied",
        actor=user,
    )
    if not allowed:
        return None
    return (
        Appointment.objects.filter(patient=patient)
        .select_related("clinician", "hospital")
        .order_by("-starts_at", "-id")
    )


def my_appointments(*, user: User, patient: Patient) -> dict:
    """The patient's own upcoming appointments (soonest first) and the latest 100 past ones. Two queries."""
    now = timezone.now()
    base = Appointment.objects.filter(patient=patient).select_related("clinician", "hospital")
    upcoming = list(base.filter(starts_at__gt=now).order_by("starts_at", "id"))
    past = list(base.filter(starts_at__lte=now).order_by("-starts_at", "-id")[:100])
    phi_accessed.send(
        sender=my_appointments,
        action="view",
        category="demographics",
        patient_id=patient.pk,
        object_label=f"appointments of patient {patient.mrn}",
        actor=user,
    )
    return {"patient": patient, "upcoming": upcoming, "past": past, "now": now}


def appointment_clinicians(*, user: User) -> QuerySet[User]:
    """Who an appointment can be booked with by `user`: active doctors and nurses of their hospital."""
    from accounts.roles import Role

    if user.hospital_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True, hospital_id=user.hospital_id, groups__name__in=[Role.DOCTOR.value, Role.NURSE.value]
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
