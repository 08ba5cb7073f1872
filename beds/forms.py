from django import forms

from accounts.models import Hospital

from .models import AlertScope, BedKind, BedStatus, Priority


class BoardFilterForm(forms.Form):
    region = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "all kinds"), *BedKind.choices])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "all regions"), *[(r, r) for r in regions]]


class BookForm(forms.Form):
    action = forms.ChoiceField(choices=[("book", "Admit now"), ("hold", "Hold for an incoming patient")])
    patient_mrn = forms.CharField(label="Medical record number", max_length=20)
    new_patient_name = forms.CharField(
        label="Name (new patients only)",
        max_length=200,
        required=False,
        help_text="Fill in name and date of birth to register a patient who has no record yet.",
    )
    new_patient_dob = forms.DateField(
        label="Date of birth (new patients only)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(choices=BedKind.choices)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.URGENT)
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.IntegerField(label="Hold for (minutes)", min_value=1, max_value=720, initial=30, required=False)


class TransferForm(forms.Form):
    to_bed = forms.IntegerField(label="Target bed id", min_value=1, max_value=2**62)


class BedStatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(v, label) for v, label in BedStatus.choices if v not in (BedStatus.OCCUPIED, BedStatus.RESERVED)]
    )


class WardForm(forms.Form):
    name = forms.CharField(max_length=100)
    speciality = forms.CharField(max_length=100, required=False)


class BedCreateForm(forms.Form):
    ward = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    label = forms.CharField(max_length=30)
    kind = forms.ChoiceField(choices=BedKind.choices)
    equipment_notes = forms.CharField(max_length=300, required=False)


class AlertForm(forms.Form):
    message = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    scope = forms.ChoiceField(choices=AlertScope.choices)
    region = forms.CharField(max_length=100, required=False)
    hospital = forms.ModelChoiceField(queryset=Hospital.objects.filter(active=True), required=False)
