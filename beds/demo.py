"""Demo wards, beds and a few admissions for `manage.py seed_demo` (idempotent)."""

from datetime import date

from django.db import transaction

from accounts.models import Hospital, User

from .models import Admission, Bed, Ward
from .services import admission_book, admission_hold, bed_create, ward_create
from .services.availability import availability_refresh

LAYOUT = [
    ("Intensive care", "Critical care", [("ICU", "icu", 8), ("VENT", "ventilator", 4)]),
    ("High dependency", "Acute medicine", [("HDU", "hdu", 6)]),
    ("General medicine", "Medicine", [("GEN", "general", 20)]),
]


@transaction.atomic
def seed(*, actor: User) -> str:
    for hospital in Hospital.objects.filter(code__in=["CGH", "RVH", "SMC"]):
        for ward_name, speciality, beds in LAYOUT:
            ward = Ward.objects.filter(hospital=hospital, name=ward_name).first() or ward_create(
                actor=actor, hospital=hospital, name=ward_name, speciality=speciality
            )
            for prefix, kind, count in beds:
                for n in range(1, count + 1):
                    label = f"{prefix}-{n}"
                    if not Bed.objects.filter(ward=ward, label=label).exists():
                        bed_create(actor=actor, ward=ward, label=label, kind=kind)
        availability_refresh(hospital_id=hospital.pk)
    if not Admission.objects.exists():
        from records.services import patient_create

        cgh = Hospital.objects.get(code="CGH")
        for i, kind in enumerate(["icu", "icu", "general"], start=1):
            patient = patient_create(
                actor=actor, mrn=f"DEMO-{i:04d}", name=f"Demo Patient {i}", date_of_birth=date(1960 + i, 1, i)
            )
            admission_book(actor=actor, patient=patient, kind=kind, hospital=cgh, reason="demo admission")
        incoming = patient_create(actor=actor, mrn="DEMO-0004", name="Demo Patient 4", date_of_birth=date(1985, 4, 4))
        admission_hold(actor=actor, patient=incoming, kind="icu", hospital=cgh, reason="ambulance en route")
    return f"{Bed.objects.count()} beds in {Ward.objects.count()} wards, {Admission.objects.count()} admissions"
