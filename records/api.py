from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .models import Patient


class DiagnosisOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    text = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    author = serializers.CharField()
    intact = serializers.BooleanField()


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
            "prescriptions": chart["prescriptions"],
            "lab": chart["lab"],
            "notes": chart["notes"],
            "allergies": chart["allergies"],
        }
        if "demographics" in chart["parts"]:
            body.update(name=patient.name, date_of_birth=patient.date_of_birth)
        return Response(body)
