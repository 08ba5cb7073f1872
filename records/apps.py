from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Patient records"

    def ready(self) -> None:
        from audit.registry import register

        from .models import AccessGrant, Diagnosis, Patient

        register(
            Patient,
            category="demographics",
            secret=["name_index", "phone_index"],
            patient=lambda p: p.pk,
            label=lambda p: f"patient {p.mrn}",
        )
        register(AccessGrant, category="security", patient=lambda g: g.patient_id, label=lambda g: f"grant {g.pk}")
        register(Diagnosis, category="diagnosis", patient=lambda d: d.patient_id, label=lambda d: f"diagnosis {d.pk}")
