from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.functional import cached_property
from fernet_fields import EncryptedCharField

from ..roles import STAFF_ROLES, Role

phone_validator = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$", "Use the international format: + and the country code, then digits only."
)

username_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{1,149}$",
    "Use 2 to 150 characters: lower-case letters, digits, dots, hyphens and underscores, "
    "starting with a letter or digit.",
)


def canonical_username(value: str) -> str:
    return (value or "").strip().lower()


def canonical_email(value: str) -> str:
    return (value or "").strip().lower()


class Hospital(models.Model):
    """The organization staff belong to; wards and beds hang below it."""

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]{2,20}$", "Use 2 to 20 capital letters, digits or hyphens.")],
    )
    name = models.CharField(max_length=200)
    region = models.CharField(max_length=100, db_index=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class HospitalUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: canonical_username(username)})

    def _create_user(self, username, email, password, **extra_fields):
        return super()._create_user(canonical_username(username), canonical_email(email), password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. Username and email are stored case-folded, so both are unique
    case-insensitively on every database."""

    username = models.CharField(
        max_length=150,
        unique=True,
        validators=[username_validator],
        help_text="Lower-case letters, digits, dots, hyphens and underscores.",
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField(
        unique=True,
        error_messages={"unique": "A user with that email address already exists."},
    )
    hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="The hospital a hospital-scoped role works for.",
    )
    # For SMS notifications. Encrypted like other personal details (a patient's number is
    # demographics), so the audit trail records only that it changed.
    phone = EncryptedCharField(
        max_length=16,
        blank=True,
        default="",
        validators=[phone_validator],
        help_text="Mobile number for SMS notifications, e.g. +441632960123. Leave empty for email only.",
    )

    objects = HospitalUserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        # Case-insensitive uniqueness: values are stored case-folded (checked here where the
        # database compares case-sensitively, as SQLite does); MariaDB/MySQL's case-insensitive
        # collation makes the unique indexes themselves ignore case.
        constraints = [
            models.CheckConstraint(condition=models.Q(username=Lower("username")), name="user_username_lowercase"),
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
        ]
        permissions = [
            ("unlock_account", "Can unlock a locked-out account"),
            ("reset_mfa", "Can reset a user's MFA devices"),
            ("view_security_overview", "Can see lock-outs and MFA status of users"),
        ]

    def clean_fields(self, exclude=None) -> None:
        # Fold case before the validators and uniqueness checks see the values.
        self.username = canonical_username(self.username)
        self.email = canonical_email(self.email)
        super().clean_fields(exclude=exclude)

    @cached_property
    def role_names(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    @property
    def roles(self) -> list[Role]:
        return [r for r in Role if r.value in self.role_names]

    @property
    def is_staff_member(self) -> bool:
        """Staff of the platform (any role but patient, or admin-site access)."""
        return self.is_staff or self.is_superuser or bool(self.role_names & {r.value for r in STAFF_ROLES})

    @property
    def requires_mfa(self) -> bool:
        return self.is_staff_member
