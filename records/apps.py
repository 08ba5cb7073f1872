from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Patient records"

    def ready(self) -> None:
        from audit.registry import register

        from .models import (
            AccessGrant,
            Allergy,
            Amendment,
            Appointment,
            ClinicalNote,
            Diagnosis,
            Document,
            LabTest,
            Patient,
            Prescription,
        )

        register(
            Patient,
            category="demographics",
            # Demographics never appear as values in the audit trail.
            secret=["name_index", "phone_index", "sex"],
            patient=lambda p: p.pk,
            label=lambda p: f"patient {p.mrn}",
        )
        register(AccessGrant, category="security", patient=lambda g: g.patient_id, label=lambda g: f"grant {g.pk}")
        # Clinical content is recorded as "set"/"changed", never as values.
        register(
            Diagnosis,
            category="diagnosis",
            secret=["code", "digest"],
            patient=lambda d: d.patient_id,
            label=lambda d: f"diagnosis {d.pk}",
        )
        register(
            Prescription,
            category="prescription",
            secret=["medication", "dose", "frequency", "duration_days", "digest"],
            patient=lambda p: p.patient_id,
            label=lambda p: f"prescription {p.pk}",
        )
        register(
            Appointment, category="demographics", patient=lambda a: a.patient_id, label=lambda a: f"appointment {a.pk}"
        )
        register(Document, category="document", patient=lambda d: d.patient_id, label=lambda d: f"document {d.pk}")
        register(
            ClinicalNote,
            category="clinical_note",
            secret=["digest"],
            patient=lambda n: n.patient_id,
            label=lambda n: f"clinical note {n.pk}",
        )
        register(
            Allergy,
            category="clinical_note",
            secret=["substance", "severity", "digest"],
            patient=lambda a: a.patient_id,
            label=lambda a: f"allergy {a.pk}",
        )
        register(
            LabTest,
            category="lab_result",
            secret=["test", "digest"],
            patient=lambda t: t.patient_id,
            label=lambda t: f"lab test {t.pk}",
        )
        # A patient's own words about their record: clinical text, never a value in the audit trail.
        register(
            Amendment,
            category="clinical_note",
            secret=["text", "denial_reason", "digest"],
            patient=lambda a: a.patient_id,
            label=lambda a: f"amendment {a.pk}",
        )
