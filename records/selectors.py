from .models import Patient


def patient_by_mrn(*, mrn: str) -> Patient | None:
    return Patient.objects.filter(mrn=(mrn or "").strip().upper()).first()
