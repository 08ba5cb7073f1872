"""REST: your patients (and searching them), and redeeming a patient's consent code."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors, services
from ..models import Patient
from ..permissions import can_redeem_consent, can_search_patients
from ..serializers import ConsentCodeIn, GrantOut, PatientListOut
from .common import refusal

# As on the search page (its field's maxlength).
MAX_QUERY_CHARS = 200


class StaffOnly(BasePermission):
    message = "Patient search is for clinical staff."

    def has_permission(self, request, view) -> bool:
        return can_search_patients(request.user)


class PatientListView(ListAPIView):
    """The patients you hold a live grant for, by record number; with `q`, those whose full name (upper
    and lower case and spacing ignored) or phone number (6 digits or more) matches. Nobody can list
    patients they may not see. Each page is audited as a query (the search terms never are)."""

    permission_classes = [*ListAPIView.permission_classes, StaffOnly]
    serializer_class = PatientListOut
    filter_backends = []  # the selector filters; ordering by encrypted fields would mean nothing

    def _query(self) -> str:
        return (self.request.query_params.get("q") or "").strip()[:MAX_QUERY_CHARS]

    def get_queryset(self) -> QuerySet[Patient]:
        # Only what is shown: the other demographics would each be decrypted for nothing.
        return selectors.accessible_patients(user=self.request.user, query=self._query()).only("id", "mrn", "name")

    @extend_schema(
        operation_id="patients_list",
        parameters=[OpenApiParameter("q", str, description="A full name, or a phone number (6 digits or more).")],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        selectors.patients_listed(user=request.user, count=len(page), searched=bool(self._query()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class CareRolesOnly(BasePermission):
    message = "Only a doctor, nurse, pharmacist or lab technician can use a patient's consent code."

    def has_permission(self, request, view) -> bool:
        return can_redeem_consent(request.user)


class ConsentRedeemView(APIView):
    """POST the one-time code the patient gave you: right once, it opens their record for you (201 with
    the grant); a wrong, used or expired code is a 400, and five wrong tries end the patient's codes.
    Care roles only (doctor, nurse, pharmacist, lab technician): others get a 403."""

    permission_classes = [*APIView.permission_classes, CareRolesOnly]

    @extend_schema(
        operation_id="patient_consent_redeem",
        request=ConsentCodeIn,
        responses={
            201: GrantOut,
            400: OpenApiResponse(description="The code is not valid for this patient, or expired, or used."),
            403: OpenApiResponse(description="Not a care role."),
            404: OpenApiResponse(description="No such patient."),
        },
    )
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_object_or_404(Patient, pk=patient_id)
        body = ConsentCodeIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            grant = services.consent_code_redeem(actor=request.user, patient=patient, code=body.validated_data["code"])
        except services.PatientError as exc:
            return refusal(exc)
        return Response(GrantOut(grant).data, status=status.HTTP_201_CREATED)
