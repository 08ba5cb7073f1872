from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class HospitalConfig(AppConfig):
    name = "hospital"
    verbose_name = "Hospital platform"

    def ready(self) -> None:
        from . import checks, crypto  # noqa: F401  (registers system checks; key-change receiver)


class HospitalAdminConfig(AdminConfig):
    default_site = "hospital.admin_site.HospitalAdminSite"
