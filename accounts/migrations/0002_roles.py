"""Create the role groups with the accounts permissions each needs.

The mapping is frozen here on purpose: later apps grant their own permissions to these
groups in their own data migrations.
"""

from django.db import migrations

ROLES = [
    "patient",
    "doctor",
    "nurse",
    "pharmacist",
    "lab_technician",
    "hospital_staff",
    "hospital_admin",
    "emergency_coordinator",
    "privacy_officer",
    "it_security",
    "auditor",
    "system_admin",
]

ACCOUNTS_PERMISSIONS = {
    "doctor": ["view_hospital"],
    "nurse": ["view_hospital"],
    "pharmacist": ["view_hospital"],
    "lab_technician": ["view_hospital"],
    "hospital_staff": ["view_hospital"],
    "hospital_admin": ["view_hospital", "change_hospital", "view_user"],
    "emergency_coordinator": ["view_hospital"],
    "privacy_officer": ["view_hospital", "view_user", "view_accountlock", "view_loginfailure"],
    "it_security": [
        "view_user",
        "unlock_account",
        "reset_mfa",
        "view_security_overview",
        "view_accountlock",
        "view_loginfailure",
        "view_usersession",
        "view_totpdevice",
    ],
    "auditor": ["view_hospital", "view_user", "view_accountlock", "view_loginfailure"],
    "system_admin": [
        "add_hospital",
        "change_hospital",
        "view_hospital",
        "add_user",
        "change_user",
        "view_user",
        "unlock_account",
        "reset_mfa",
        "view_security_overview",
        "view_accountlock",
        "view_loginfailure",
        "view_usersession",
        "view_totpdevice",
    ],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        codenames = ACCOUNTS_PERMISSIONS.get(role, [])
        perms = list(Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames))
        missing = set(codenames) - {p.codename for p in perms}
        if missing:
            raise RuntimeError(f"permissions missing for role {role}: {sorted(missing)}")
        group.permissions.add(*perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
