"""Roles are Django groups. This module names them; migrations create them with their permissions."""

from django.db import models


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    DOCTOR = "doctor", "Doctor"
    NURSE = "nurse", "Nurse"
    PHARMACIST = "pharmacist", "Pharmacist"
    LAB_TECHNICIAN = "lab_technician", "Lab technician"
    HOSPITAL_STAFF = "hospital_staff", "Hospital staff"
    HOSPITAL_ADMIN = "hospital_admin", "Hospital admin"
    EMERGENCY_COORDINATOR = "emergency_coordinator", "Emergency coordinator"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"
    IT_SECURITY = "it_security", "IT security"
    AUDITOR = "auditor", "Auditor"
    SYSTEM_ADMIN = "system_admin", "System admin"


# Roles whose users work for one hospital and see that hospital's data.
HOSPITAL_SCOPED_ROLES = frozenset(
    {
        Role.DOCTOR,
        Role.NURSE,
        Role.PHARMACIST,
        Role.LAB_TECHNICIAN,
        Role.HOSPITAL_STAFF,
        Role.HOSPITAL_ADMIN,
    }
)

# Every role but patient is staff: MFA is mandatory for them.
STAFF_ROLES = frozenset(Role) - {Role.PATIENT}


# The permissions each role holds, as "app_label.codename". The data migrations created the
# groups with these; accounts.receivers.sync_roles restores any that are missing after every
# migrate or flush (it never removes what an administrator added).
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.PATIENT: (),
    Role.DOCTOR: ("accounts.view_hospital",),
    Role.NURSE: ("accounts.view_hospital",),
    Role.PHARMACIST: ("accounts.view_hospital",),
    Role.LAB_TECHNICIAN: ("accounts.view_hospital",),
    Role.HOSPITAL_STAFF: ("accounts.view_hospital",),
    Role.HOSPITAL_ADMIN: ("accounts.view_hospital", "accounts.change_hospital", "accounts.view_user"),
    Role.EMERGENCY_COORDINATOR: ("accounts.view_hospital",),
    Role.PRIVACY_OFFICER: (
        "accounts.view_hospital",
        "accounts.view_user",
        "accounts.view_accountlock",
        "accounts.view_loginfailure",
        "audit.view_auditevent",
        "audit.export_auditevent",
    ),
    Role.IT_SECURITY: (
        "accounts.view_user",
        "accounts.unlock_account",
        "accounts.reset_mfa",
        "accounts.view_security_overview",
        "accounts.view_accountlock",
        "accounts.view_loginfailure",
        "accounts.view_usersession",
        "accounts.view_totpdevice",
        "audit.view_auditevent",
    ),
    Role.AUDITOR: (
        "accounts.view_hospital",
        "accounts.view_user",
        "accounts.view_accountlock",
        "accounts.view_loginfailure",
        "audit.view_auditevent",
        "audit.export_auditevent",
    ),
    Role.SYSTEM_ADMIN: (
        "accounts.add_hospital",
        "accounts.change_hospital",
        "accounts.view_hospital",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_user",
        "accounts.unlock_account",
        "accounts.reset_mfa",
        "accounts.view_security_overview",
        "accounts.view_accountlock",
        "accounts.view_loginfailure",
        "accounts.view_usersession",
        "accounts.view_totpdevice",
        "audit.view_auditevent",
        "audit.export_auditevent",
    ),
}
