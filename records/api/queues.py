"""REST: the pharmacy and lab queues of your hospital, dispensing and recording results."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import LabTest, Prescription
from ..permissions import can_dispense, can_record_lab_result, can_use_lab_queue, can_use_pharmacy_queue
from ..serializers import DispensedOut, LabQueueItemOut, LabResultIn, LabResultOut, PharmacyQueueItemOut
from .common import refusal


class PharmacistsOnly(BasePermission):
    message = "The pharmacy queue is for pharmacists."

    def has_permission(self, request, view) -> bool:
        return can_use_pharmacy_queue(request.user)


class LabTechniciansOnly(BasePermission):
    message = "The lab queue is for lab technicians."

    def has_permission(self, request, view) -> bool:
        return can_use_lab_queue(request.user)


@extend_schema_view(get=extend_schema(operation_id="pharmacy_queue_list"))
class PharmacyQueueView(ListAPIView):
    """Prescriptions waiting to be dispensed at your hospital, oldest first: record numbers and what was
    prescribed, never names or instructions. Audited as a query, as the pharmacy page is."""

    permission_classes = [*ListAPIView.permission_classes, PharmacistsOnly]
    serializer_class = PharmacyQueueItemOut
    filter_backends = []

    def get_queryset(self) -> list[Prescription]:
        return selectors.pharmacy_queue(user=self.request.user)


@extend_schema_view(get=extend_schema(operation_id="lab_queue_list"))
class LabQueueView(ListAPIView):
    """Lab orders waiting for a result at your hospital, oldest first: record numbers and the test,
    never names. Audited as a query, as the lab page is."""

    permission_classes = [*ListAPIView.permission_classes, LabTechniciansOnly]
    serializer_class = LabQueueItemOut
    filter_backends = []

    def get_queryset(self) -> list[LabTest]:
        return selectors.lab_queue(user=self.request.user)


class DispenseView(APIView):
    """POST: a pharmacist of the prescribing hospital dispenses; 409 when it is not waiting to be
    dispensed or fails its integrity check."""

    @extend_schema(
        operation_id="prescription_dispense",
        request=None,
        responses={
            200: DispensedOut,
            403: OpenApiResponse(description="Only a pharmacist of the prescribing hospital can dispense it."),
            404: OpenApiResponse(description="No such prescription."),
            409: OpenApiResponse(description="Not waiting to be dispensed, or it failed its integrity check."),
        },
    )
    def post(self, request: Request, prescription_id: int) -> Response:
        # Only the ids: who may dispense is answered before any encrypted field is read.
        prescription = get_object_or_404(Prescription.objects.only("id", "hospital_id"), pk=prescription_id)
        if not can_dispense(user=request.user, prescription=prescription):
            raise PermissionDenied("Only a pharmacist of the prescribing hospital can dispense it.")
        try:
            prescription = services.prescription_dispense(actor=request.user, prescription_id=prescription.pk)
        except services.PatientError as exc:
            return refusal(exc, state_status=status.HTTP_409_CONFLICT)
        return Response(DispensedOut(prescription).data)


class LabResultView(APIView):
    """POST the result of an order: a lab technician of the ordering hospital; 400 without a result,
    409 when the order is not waiting for one or fails its integrity check."""

    @extend_schema(
        operation_id="lab_test_result",
        request=LabResultIn,
        responses={
            200: LabResultOut,
            400: OpenApiResponse(description="Bad input: messages by field."),
            403: OpenApiResponse(description="Only a lab technician of the ordering hospital can record it."),
            404: OpenApiResponse(description="No such lab order."),
            409: OpenApiResponse(description="Not waiting for a result, or it failed its integrity check."),
        },
    )
    def post(self, request: Request, lab_test_id: int) -> Response:
        order = get_object_or_404(LabTest.objects.only("id", "hospital_id"), pk=lab_test_id)
        if not can_record_lab_result(user=request.user, lab_test=order):
            raise PermissionDenied("Only a lab technician of the ordering hospital can record the result.")
        body = LabResultIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order = services.lab_result(actor=request.user, lab_test_id=order.pk, **body.validated_data)
        except services.PatientError as exc:
            return refusal(exc, state_status=status.HTTP_409_CONFLICT)
        return Response(LabResultOut(order).data)
