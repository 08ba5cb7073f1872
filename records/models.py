"""Patients. Name and date of birth are encrypted at rest; the medical record number is not secret."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from fernet_fields import EncryptedCharField, EncryptedDateField


class Patient(models.Model):
    mrn = models.CharField(
        "medical record number",
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]{4,20}$", "Use 4 to 20 capital letters, digits or hyphens.")],
    )
    name = EncryptedCharField(max_length=200)
    # Keyed HMAC of the normalized name (BLIND_INDEX_KEY): search by name without decrypting.
    name_index = models.CharField(max_length=64, db_index=True, editable=False, default="")
    date_of_birth = EncryptedDateField()
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="patient_record"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mrn"]

    def __str__(self) -> str:
        # Never the name: this string reaches logs, admin breadcrumbs and audit labels.
        return f"patient {self.mrn}"
