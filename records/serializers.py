"""REST shapes of records. Input serializers parse types only: every rule (what is required, lengths,
ranges, choices) belongs to the services, whose refusals the API returns field by field."""

from rest_framework import serializers

from .models import Appointment, AppointmentStatus, GrantReason, GrantScope, LabStatus, PrescriptionStatus

# --- the chart, and a record just written (the same fields as the chart, nothing more) -----------


class AmendmentOut(serializers.Serializer):
    """An accepted amendment, shown with the record it targets."""

    id = serializers.IntegerField()
    text = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField()
    intact = serializers.BooleanField()


class _RecordOut(serializers.Serializer):
    """What every chart item has. A record that fails its integrity check has only these."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    intact = serializers.BooleanField(help_text="False when the stored record does not match its digest.")
    amendments = AmendmentOut(many=True)


class DiagnosisOut(_RecordOut):
    code = serializers.CharField()
    text = serializers.CharField(allow_null=True)
    author = serializers.CharField()


class PrescriptionOut(_RecordOut):
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices)
    medication = serializers.CharField(required=False)
    dose = serializers.CharField(required=False)
    frequency = serializers.CharField(required=False)
    duration_days = serializers.IntegerField(required=False)
    instructions = serializers.CharField(required=False)
    author = serializers.CharField(required=False)


class LabTestOut(_RecordOut):
    status = serializers.ChoiceField(choices=LabStatus.choices)
    test = serializers.CharField(required=False)
    result = serializers.CharField(required=False)
    reference_range = serializers.CharField(required=False)


class NoteOut(_RecordOut):
    text = serializers.CharField(required=False)
    author = serializers.CharField(required=False)


class AllergyOut(_RecordOut):
    substance = serializers.CharField(required=False)
    severity = serializers.CharField(required=False)
    reaction = serializers.CharField(required=False)
    author = serializers.CharField(required=False)


class ChartOut(serializers.Serializer):
    id = serializers.IntegerField()
    mrn = serializers.CharField()
    name = serializers.CharField(required=False)
    date_of_birth = serializers.DateField(required=False)
    parts = serializers.ListField(child=serializers.CharField())
    diagnoses = DiagnosisOut(many=True)
    prescriptions = PrescriptionOut(many=True)
    lab = LabTestOut(many=True)
    notes = NoteOut(many=True)
    allergies = AllergyOut(many=True)
    details_amendments = AmendmentOut(many=True, required=False)


class DiagnosisIn(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, help_text="ICD-10 code, e.g. J18.9")
    text = serializers.CharField(allow_blank=True)


class PrescriptionIn(serializers.Serializer):
    medication = serializers.CharField(allow_blank=True)
    dose = serializers.CharField(allow_blank=True)
    frequency = serializers.CharField(allow_blank=True)
    duration_days = serializers.IntegerField(help_text="1 to 365.")
    instructions = serializers.CharField(allow_blank=True, required=False, default="")


class LabOrderIn(serializers.Serializer):
    test = serializers.CharField(allow_blank=True, help_text="The test to run (up to 200 characters).")


class NoteIn(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)


class AllergyIn(serializers.Serializer):
    substance = serializers.CharField(allow_blank=True)
    severity = serializers.CharField(allow_blank=True, help_text="mild, moderate or severe.")
    reaction = serializers.CharField(allow_blank=True, required=False, default="")


# --- patients and consent -----------------------------------------------------------------------


class PatientListOut(serializers.Serializer):
    """A patient in a list: what the search page shows."""

    id = serializers.IntegerField()
    mrn = serializers.CharField()
    name = serializers.CharField()


class ConsentCodeIn(serializers.Serializer):
    code = serializers.CharField(
        allow_blank=True, help_text="The one-time code the patient gave you, e.g. ABCDE-FGHJK."
    )


class GrantOut(serializers.Serializer):
    """The access a consent code opened (no patient data)."""

    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    reason = serializers.ChoiceField(choices=GrantReason.choices)
    scope = serializers.ChoiceField(choices=GrantScope.choices)
    expires_at = serializers.DateTimeField()


# --- pharmacy and lab queues (record numbers, never names) ---------------------------------------


class _QueueItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    patient = serializers.IntegerField(source="patient_id")
    mrn = serializers.CharField(source="patient.mrn")
    author = serializers.CharField(source="author.username")


class PharmacyQueueItemOut(_QueueItemOut):
    medication = serializers.CharField()
    dose = serializers.CharField()
    frequency = serializers.CharField()
    duration_days = serializers.IntegerField()


class LabQueueItemOut(_QueueItemOut):
    test = serializers.CharField()


class DispensedOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text='"dispensed"')
    dispensed_by = serializers.CharField(source="dispensed_by.username")
    dispensed_at = serializers.DateTimeField()


class LabResultIn(serializers.Serializer):
    result = serializers.CharField(allow_blank=True)
    reference_range = serializers.CharField(allow_blank=True, required=False, default="")


class LabResultOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text='"resulted"')
    resulted_by = serializers.CharField(source="resulted_by.username")
    resulted_at = serializers.DateTimeField()


# --- appointments -------------------------------------------------------------------------------


class AppointmentOut(serializers.ModelSerializer):
    clinician_name = serializers.SerializerMethodField()
    hospital_code = serializers.CharField(source="hospital.code")

    class Meta:
        model = Appointment
        fields = ["id", "patient", "clinician", "clinician_name", "hospital", "hospital_code", "starts_at", "status"]

    def get_clinician_name(self, obj: Appointment) -> str:
        return obj.clinician.get_full_name() or obj.clinician.get_username()


class AppointmentIn(serializers.Serializer):
    clinician = serializers.IntegerField(min_value=1, max_value=2**62, help_text="A doctor or nurse of your hospital.")
    starts_at = serializers.DateTimeField(help_text="In the future, at most a year ahead.")


class AppointmentStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in AppointmentStatus if s != AppointmentStatus.SCHEDULED]
    )
