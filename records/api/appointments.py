"""REST: the patient's appointments (list, book) and changing an appointment's status."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Appointment, AppointmentStatus, Patient
from ..permissions import can_book_appointment, can_manage_appointment, can_view_appointments, is_own_record
from ..serializers import AppointmentIn, AppointmentOut, AppointmentStatusIn


def _appointment(pk: int) -> Appointment:
    return Appointment.objects.select_related("clinician", "hospital").defer("clinician__phone").get(pk=pk)


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
