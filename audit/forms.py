from django import forms
from django.contrib.auth import get_user_model

from .models import Action, Category, Outcome
from .selectors import SORTABLE, AuditFilters


def _blank(choices):
    return [("", "any"), *choices]


class AuditFilterForm(forms.Form):
    start = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        required=False, label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    user = forms.CharField(required=False, max_length=150, label="User (username)")
    patient = forms.IntegerField(required=False, min_value=1, max_value=2**62, label="Patient id")
    action = forms.ChoiceField(required=False, choices=_blank(Action.choices))
    category = forms.ChoiceField(required=False, choices=_blank(Category.choices))
    outcome = forms.ChoiceField(required=False, choices=_blank(Outcome.choices))
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for k in SORTABLE] + [(f"-{k}", f"-{k}") for k in SORTABLE],
        widget=forms.HiddenInput,
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            raise forms.ValidationError("“Until” must be after “From”.")
        return cleaned

    def to_filters(self, *, patient_id: int | None = None, actor_id: int | None = None) -> AuditFilters:
        data = self.cleaned_data
        filters = AuditFilters(
            start=data.get("start"),
            end=data.get("end"),
            patient_id=patient_id if patient_id is not None else data.get("patient"),
            actor_id=actor_id,
            action=data.get("action") or "",
            category=data.get("category") or "",
            outcome=data.get("outcome") or "",
        )
        username = (data.get("user") or "").strip().lower()
        if username and actor_id is None:
            # Filter by id when the account exists (names of deleted accounts still match by name).
            found = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
            if found is not None:
                filters.actor_id = found
            else:
                filters.actor_name = username
        return filters
