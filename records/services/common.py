"""The refusal every records service raises: a message safe to show, never the patient's data."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class PatientError(Exception):
    """A refusal with a message safe to show (never containing the patient's data).

    `field_errors` maps the input fields the refusal is about to their messages (the API answers those
    with a 400 keyed by field); it is empty when the refusal is about the record's state or the actor."""

    def __init__(
        self, message: str, *, fields: tuple[str, ...] = (), field_errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.field_errors = field_errors if field_errors is not None else {name: [message] for name in fields}

    @classmethod
    def from_validation(cls, exc: ValidationError) -> "PatientError":
        """The model's own validation (full_clean), as one message and per field."""
        errors = exc.message_dict
        return cls(
            " ".join(m for msgs in errors.values() for m in msgs),
            field_errors={name: msgs for name, msgs in errors.items() if name != NON_FIELD_ERRORS},
        )
