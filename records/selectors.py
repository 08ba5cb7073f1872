from .models import Patient


def patient_by_mrn(*, mrn: str) -> Patient | None:
    return Patient.objects.filter(mrn=(mrn or "").strip().upper()).first()


def patients_by_name(*, name: str) -> list[Patient]:
    """Exact (case- and spacing-insensitive) name search through the blind index."""
    from hospital.crypto import blind_index

    if not (name or "").strip():
        return []
    return list(Patient.objects.filter(name_index=blind_index(name, purpose="patient.name")).order_by("mrn"))
