"""REST: what a doctor with access to the full record adds to the chart: diagnoses, prescriptions, lab
orders, notes and allergies. The same permission answer as the chart's forms, the same services."""

from collections.abc import Callable

from django.db import models
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Patient
from ..permissions import can_write_clinical
from ..serializers import (
    AllergyIn,
    AllergyOut,
    DiagnosisIn,
    DiagnosisOut,
    LabOrderIn,
    LabTestOut,
    NoteIn,
    NoteOut,
    PrescriptionIn,
    PrescriptionOut,
)
from .common import refusal

REFUSALS = {
    400: OpenApiResponse(description="Bad input: messages by field, or `detail`."),
    403: OpenApiResponse(description="Only a doctor with access to the patient's full record may add to it."),
    404: OpenApiResponse(description="No such patient."),
}


class _AddToChart(APIView):
    """POST: the service writes the record; 201 with the record as the chart shows it, 400 (by field)
    for bad input and nothing written, 403 (audited) without the right to write to this record."""

    input_serializer: type[serializers.Serializer]
    output_serializer: type[serializers.Serializer]
    write: Callable[..., models.Model]  # the service, as a staticmethod

    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_object_or_404(Patient, pk=patient_id)
        if not can_write_clinical(user=request.user, patient=patient):
            raise PermissionDenied("You cannot add to this patient's record.")
        body = self.input_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            record = self.write(actor=request.user, patient=patient, **body.validated_data)
        except services.PatientError as exc:
            return refusal(exc)
        return Response(self.output_serializer(selectors.chart_item(record)).data, status=status.HTTP_201_CREATED)


def _documented(
    operation_id: str, request: type[serializers.Serializer], response: type[serializers.Serializer]
) -> Callable[[type[APIView]], type[APIView]]:
    return extend_schema_view(
        post=extend_schema(operation_id=operation_id, request=request, responses={201: response, **REFUSALS})
    )


@_documented("patient_diagnoses_create", DiagnosisIn, DiagnosisOut)
class PatientDiagnosesView(_AddToChart):
    input_serializer, output_serializer = DiagnosisIn, DiagnosisOut
    write = staticmethod(services.diagnosis_create)


@_documented("patient_prescriptions_create", PrescriptionIn, PrescriptionOut)
class PatientPrescriptionsView(_AddToChart):
    input_serializer, output_serializer = PrescriptionIn, PrescriptionOut
    write = staticmethod(services.prescription_create)


@_documented("patient_lab_orders_create", LabOrderIn, LabTestOut)
class PatientLabOrdersView(_AddToChart):
    input_serializer, output_serializer = LabOrderIn, LabTestOut
    write = staticmethod(services.lab_order)


@_documented("patient_notes_create", NoteIn, NoteOut)
class PatientNotesView(_AddToChart):
    input_serializer, output_serializer = NoteIn, NoteOut
    write = staticmethod(services.note_create)


@_documented("patient_allergies_create", AllergyIn, AllergyOut)
class PatientAllergiesView(_AddToChart):
    input_serializer, output_serializer = AllergyIn, AllergyOut
    write = staticmethod(services.allergy_create)
