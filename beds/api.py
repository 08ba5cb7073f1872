"""REST: hospitals, beds, availability, admissions (book, hold, confirm, transfer, discharge)."""

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Hospital
from audit.signals import phi_accessed
from records.selectors import patient_by_mrn

from . import selectors, services
from .models import Admission, Bed, BedKind, BedStatus, Priority
from .permissions import can_act_in_hospital, can_view_board, is_coordinator


class StaffOnly(BasePermission):
    message = "Only hospital staff can use the bed API."

    def has_permission(self, request, view) -> bool:
        return can_view_board(request.user)


class HospitalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hospital
        fields = ["id", "code", "name", "region", "address", "phone", "active"]


class BedSerializer(serializers.ModelSerializer):
    hospital = serializers.IntegerField(source="hospital_id")
    ward = serializers.CharField(source="ward.name")

    class Meta:
        model = Bed
        fields = ["id", "hospital", "ward", "label", "kind", "status", "equipment_notes", "updated_at"]


class AdmissionSerializer(serializers.ModelSerializer):
    mrn = serializers.CharField(source="patient.mrn")
    bed_label = serializers.CharField(source="bed.label")

    class Meta:
        model = Admission
        fields = [
            "id",
            "patient",
            "mrn",
            "bed",
            "bed_label",
            "hospital",
            "priority",
            "status",
            "created_at",
            "admitted_at",
            "discharged_at",
            "hold_expires_at",
        ]


class BookingSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["book", "hold"], default="book")
    patient_mrn = serializers.CharField(max_length=20)
    kind = serializers.ChoiceField(choices=BedKind.choices)
    hospital = serializers.PrimaryKeyRelatedField(queryset=Hospital.objects.filter(active=True), required=False)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.URGENT)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    minutes = serializers.IntegerField(min_value=1, max_value=720, required=False)

    def validate(self, data):
        if not data.get("hospital") and not data.get("region"):
            raise ValidationError("Give a hospital or a region.")
        return data


class TransferSerializer(serializers.Serializer):
    to_bed = serializers.IntegerField(min_value=1)


def _refuse_unless_can_act(request: Request, hospital_id: int) -> None:
    if not can_act_in_hospital(request.user, hospital_id):
        raise PermissionDenied("You cannot manage beds in this hospital.")


class HospitalList(ListAPIView):
    permission_classes = [*ListAPIView.permission_classes, StaffOnly]
    serializer_class = HospitalSerializer
    filterset_fields = ["region", "active", "code"]
    ordering_fields = ["name", "code", "region"]
    queryset = Hospital.objects.order_by("name")


class BedList(ListAPIView):
    permission_classes = [*ListAPIView.permission_classes, StaffOnly]
    serializer_class = BedSerializer
    filterset_fields = ["hospital", "kind", "status", "ward"]
    ordering_fields = ["label", "kind", "status", "updated_at"]
    queryset = Bed.objects.select_related("ward").order_by("hospital_id", "ward_id", "label")


class AvailabilityView(APIView):
    permission_classes = [*APIView.permission_classes, StaffOnly]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind", "")
        if kind and kind not in BedKind.values:
            raise ValidationError({"kind": [f"Choose one of {', '.join(BedKind.values)}."]})
        body = selectors.availability_board_json(region=request.query_params.get("region", ""), kind=kind)
        return HttpResponse(body, content_type="application/json")


class AdmissionList(APIView):
    """GET: live and recent admissions of the hospitals you work in. POST: book or hold a bed."""

    permission_classes = [*APIView.permission_classes, StaffOnly]

    def _queryset(self, request):
        qs = Admission.objects.select_related("patient", "bed").order_by("-created_at", "-id")
        if not is_coordinator(request.user):
            qs = qs.filter(hospital_id=request.user.hospital_id) if request.user.hospital_id else qs.none()
        status_filter = request.query_params.get("status")
        if status_filter:
            qs = qs.filter(status=status_filter)
        return qs

    @extend_schema(responses=AdmissionSerializer(many=True))
    def get(self, request: Request) -> Response:
        from rest_framework.pagination import PageNumberPagination

        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(self._queryset(request), request, view=self)
        phi_accessed.send(
            sender=AdmissionList,
            action="query",
            category="bed",
            object_label="admissions list",
            reason=f"{len(page)} admission(s)",
        )
        return paginator.get_paginated_response(AdmissionSerializer(page, many=True).data)

    @extend_schema(operation_id="admissions_book", request=BookingSerializer, responses={201: AdmissionSerializer})
    def post(self, request: Request) -> Response:
        data = BookingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        hospital = v.get("hospital")
        if hospital is not None:
            _refuse_unless_can_act(request, hospital.pk)
        elif not is_coordinator(request.user):
            raise PermissionDenied("Only emergency coordinators can book across a region.")
        patient = patient_by_mrn(mrn=v["patient_mrn"])
        if patient is None:
            raise ValidationError({"patient_mrn": ["No patient has this medical record number."]})
        common = {
            "actor": request.user,
            "patient": patient,
            "kind": v["kind"],
            "hospital": hospital,
            "region": v.get("region") or None,
            "priority": v["priority"],
            "reason": v["reason"],
        }
        try:
            if v["action"] == "hold":
                admission = services.admission_hold(**common, minutes=v.get("minutes"))
            else:
                admission = services.admission_book(**common)
        except services.BookingError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(AdmissionSerializer(admission).data, status=status.HTTP_201_CREATED)


class AdmissionAction(APIView):
    """POST confirm / cancel / discharge / transfer on one admission."""

    permission_classes = [*APIView.permission_classes, StaffOnly]
    actions = {
        "confirm": services.admission_confirm_hold,
        "cancel": services.admission_cancel_hold,
        "discharge": services.admission_discharge,
    }

    @extend_schema(operation_id="admissions_action", request=TransferSerializer, responses=AdmissionSerializer)
    def post(self, request: Request, admission_id: int, action: str) -> Response:
        admission = get_object_or_404(Admission.objects.filter(Q(pk=admission_id)))
        _refuse_unless_can_act(request, admission.hospital_id)
        try:
            if action == "transfer":
                body = TransferSerializer(data=request.data)
                body.is_valid(raise_exception=True)
                target = get_object_or_404(Bed, pk=body.validated_data["to_bed"])
                _refuse_unless_can_act(request, target.hospital_id)
                admission = services.admission_transfer(
                    actor=request.user, admission_id=admission.pk, to_bed_id=target.pk
                )
            elif action in self.actions:
                admission = self.actions[action](actor=request.user, admission_id=admission.pk)
            else:
                raise ValidationError({"action": ["Use confirm, cancel, discharge or transfer."]})
        except services.BookingError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        admission = Admission.objects.select_related("patient", "bed").get(pk=admission.pk)
        return Response(AdmissionSerializer(admission).data)


class BedStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BedStatus.choices)


class BedStatusView(APIView):
    """POST: housekeeping and capacity status changes (cleaning, available, closed, isolated)."""

    permission_classes = [*APIView.permission_classes, StaffOnly]

    @extend_schema(request=BedStatusSerializer, responses=BedSerializer)
    def post(self, request: Request, bed_id: int) -> Response:
        bed = get_object_or_404(Bed, pk=bed_id)
        _refuse_unless_can_act(request, bed.hospital_id)
        body = BedStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            bed = services.bed_set_status(actor=request.user, bed_id=bed.pk, status=body.validated_data["status"])
        except services.CapacityError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(BedSerializer(Bed.objects.select_related("ward").get(pk=bed.pk)).data)
