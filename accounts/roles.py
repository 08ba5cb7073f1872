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
