"""REST: the patient chart."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..models import Patient
from ..serializers import AmendmentOut, ChartOut, DiagnosisOut


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
