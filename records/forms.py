from django import forms


class ClinicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.get_full_name() or obj.username} ({obj.username})"


class AppointmentForm(forms.Form):
    """Book an appointment; the service decides whether the time and the clinician are acceptable."""

    clinician = ClinicianChoiceField(
        queryset=None,
        empty_label="Choose a doctor or nurse",
        error_messages={"invalid_choice": "Choose a doctor or nurse of your hospital from the list."},
    )
    starts_at = forms.DateTimeField(
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter a date and time, e.g. 2030-01-31 14:30."},
    )

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = clinicians


class AmendmentRequestForm(forms.Form):
    """The patient's request: which of their records (or their details), and what should change."""

    target = forms.ChoiceField(
        label="Which part of my record",
        required=False,
        error_messages={"invalid_choice": "Choose one of your records, or your details."},
    )
    # Length and emptiness are checked by the service (one rule, one message).
    text = forms.CharField(
        label="What should be amended, and why",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 5000}),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = choices
