from django.apps import AppConfig


class BedsConfig(AppConfig):
    name = "beds"
    verbose_name = "Beds and admissions"

    def ready(self) -> None:
        from audit.registry import register

        from . import live
        from .signals import alert_raised, bed_status_changed

        bed_status_changed.connect(live.on_bed_status_changed, dispatch_uid="beds.live.availability")
        alert_raised.connect(live.on_alert_raised, dispatch_uid="beds.live.alert")
        from accounts.signals import session_ended

        session_ended.connect(live.on_session_ended, dispatch_uid="beds.live.session_ended")

        from .models import Admission, Bed, Ward

        register(Ward, category="bed", label=lambda w: f"ward {w.pk}")
        register(Bed, category="bed", exclude=["updated_at"], label=lambda b: f"bed {b.pk} ({b.kind})")
        register(
            Admission,
            category="bed",
            patient=lambda a: a.patient_id,
            label=lambda a: f"admission {a.pk}",
        )
