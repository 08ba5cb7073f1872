from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def auditing_enabled(app_configs, **kwargs):
    if not getattr(settings, "AUDIT_ENABLED", True):
        return [
            Warning(
                "AUDIT_ENABLED is False: reads and changes of patient data are not being audited.",
                hint="Remove AUDIT_ENABLED=false from the environment. The switch itself was recorded.",
                id="audit.W001",
            )
        ]
    return []
