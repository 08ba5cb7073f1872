from django.db import migrations

AUDIT_PERMISSIONS = {
    "privacy_officer": ["view_auditevent", "export_auditevent"],
    "auditor": ["view_auditevent", "export_auditevent"],
    "system_admin": ["view_auditevent", "export_auditevent"],
    "it_security": ["view_auditevent"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in AUDIT_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        perms = list(Permission.objects.filter(content_type__app_label="audit", codename__in=codenames))
        if len(perms) != len(codenames):
            raise RuntimeError(f"audit permissions missing for {role}")
        group.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_head"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
