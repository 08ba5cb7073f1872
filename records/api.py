"""REST: the patient chart, and the patient's appointments (list, book, change status)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import Appointment, AppointmentStatus, Patient
from .permissions import can_book_appointment, can_manage_appointment, can_view_appointments, is_own_record


class AmendmentOut(serializers.Serializer):
    """An accepted amendment, shown with the record it targets."""

    id = serializers.IntegerField()
    text = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField()
    intact = serializers.BooleanField()


class DiagnosisOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    text = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    author = serializers.CharField()
    intact = serializers.BooleanField()
    amendments = AmendmentOut(many=True)


class ChartOut(serializers.Serializer):
    id = serializers.IntegerField()
    mrn = serializers.CharField()
    name = serializers.CharField(required=False)
    date_of_birth = serializers.DateField(required=False)
    parts = serializers.ListField(child=serializers.CharField())
    diagnoses = DiagnosisOut(many=True)
    prescriptions = serializers.ListField(child=serializers.DictField())
    lab = serializers.ListField(child=serializers.DictField())
    notes = serializers.ListField(child=serializers.DictField())
    allergies = serializers.ListField(child=serializers.DictField())
    details_amendments = AmendmentOut(many=True, required=False)


def _amended(items: list[dict]) -> list[dict]:
    return [{**item, "amendments": AmendmentOut(item.get("amendments", []), many=True).data} for item in items]


class PatientChartView(APIView):
    """The patient's chart, as much of it as your grants open; 403 without one."""

    @extend_schema(responses=ChartOut)
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_object_or_404(Patient, pk=patient_id)
        chart = selectors.patient_chart(user=request.user, patient=patient)
        if chart is None:
            raise PermissionDenied("You have no access to this patient's record.")
        body = {
            "id": patient.pk,
            "mrn": patient.mrn,
            "parts": sorted(chart["parts"]),
            "diagnoses": DiagnosisOut(chart["diagnoses"], many=True).data,
            "prescriptions": _amended(chart["prescriptions"]),
            "lab": _amended(chart["lab"]),
            "notes": _amended(chart["notes"]),
            "allergies": _amended(chart["allergies"]),
        }
        if "demographics" in chart["parts"]:
            body.update(
                name=patient.name,
                date_of_birth=patient.date_of_birth,
                details_amendments=AmendmentOut(chart["details_amendments"], many=True).data,
            )
        return Response(body)


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


def _appointment(pk: int) -> Appointment:
    return Appointment.objects.select_related("clinician", "hospital").get(pk=pk)


class PatientAppointmentsView(APIView):
    """GET: the patient's appointments (newest first) if your grants open the demographics; 403 otherwise.
    POST: book one (doctors and nurses with access to the full record, as on the page)."""

    @extend_schema(responses=AppointmentOut(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_object_or_404(Patient, pk=patient_id)
        appointments = selectors.appointments_for_patient(user=request.user, patient=patient)
        if appointments is None:
            raise PermissionDenied("You have no access to this patient's record.")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(appointments, request, view=self)
        return paginator.get_paginated_response(AppointmentOut(page, many=True).data)

    @extend_schema(operation_id="patient_appointments_book", request=AppointmentIn, responses={201: AppointmentOut})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_object_or_404(Patient, pk=patient_id)
        if not (
            can_view_appointments(user=request.user, patient=patient)
            and can_book_appointment(user=request.user, patient=patient)
        ):
            raise PermissionDenied("Only a doctor or nurse with access to the full record can book appointments.")
        body = AppointmentIn(data=request.data)
        body.is_valid(raise_exception=True)
        clinician = (
            selectors.appointment_clinicians(user=request.user).filter(pk=body.validated_data["clinician"]).first()
        )
        if clinician is None:
            raise ValidationError({"clinician": ["Choose a doctor or nurse of your hospital."]})
        try:
            appointment = services.appointment_create(
                actor=request.user, patient=patient, clinician=clinician, starts_at=body.validated_data["starts_at"]
            )
        except services.PatientError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(AppointmentOut(_appointment(appointment.pk)).data, status=status.HTTP_201_CREATED)


class AppointmentDetailView(APIView):
    """PATCH the status: the clinician, or a doctor or nurse of the hospital who may see the patient,
    marks it completed, cancelled or no-show; the patient may cancel their own upcoming appointment."""

    @extend_schema(request=AppointmentStatusIn, responses=AppointmentOut)
    def patch(self, request: Request, appointment_id: int) -> Response:
        appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=appointment_id)
        own = is_own_record(user=request.user, patient=appointment.patient)
        if not own and not can_manage_appointment(user=request.user, appointment=appointment):
            raise PermissionDenied("You cannot change this appointment.")
        body = AppointmentStatusIn(data=request.data)
        body.is_valid(raise_exception=True)
        new_status = body.validated_data["status"]
        try:
            if own:
                if new_status != AppointmentStatus.CANCELLED:
                    raise ValidationError({"status": ["You can only cancel your appointments."]})
                services.appointment_cancel_by_patient(actor=request.user, appointment_id=appointment.pk)
            else:
                services.appointment_set_status(actor=request.user, appointment_id=appointment.pk, status=new_status)
        except services.PatientError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(AppointmentOut(_appointment(appointment.pk)).data)
