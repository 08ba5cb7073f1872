from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Patient records"

    def ready(self) -> None:
        from audit.registry import register

        from .models import Patient

        register(
            Patient,
            category="demographics",
            secret=["name_index"],
            patient=lambda p: p.pk,
            label=lambda p: f"patient {p.mrn}",
        )
