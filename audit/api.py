"""Read-only audit events for the same roles as the report pages, with the same filters and keyset pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .forms import AuditFilterForm
from .models import Action, Category
from .permissions import can_view_audit
from .selectors import audit_events_page, parse_sort
from .services import audit_event_record


class CanViewAudit(BasePermission):
    message = "Only privacy officers, auditors and administrators can read the audit trail."

    def has_permission(self, request, view) -> bool:
        return can_view_audit(request.user)


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(allow_null=True, help_text="Place in the hash chain; null until sealed.")
    occurred_at = serializers.DateTimeField()
    activity_at = serializers.DateTimeField(allow_null=True)
    actor_id = serializers.IntegerField(allow_null=True)
    actor_name = serializers.CharField()
    actor_role = serializers.CharField()
    patient_id = serializers.IntegerField(allow_null=True)
    action = serializers.CharField()
    category = serializers.CharField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField()
    object_label = serializers.CharField()
    changes = serializers.JSONField()
    ip_address = serializers.CharField(allow_null=True)
    request_id = serializers.CharField()
    reason = serializers.CharField()
    outcome = serializers.CharField()
    hash = serializers.CharField()

    def get_object_type(self, event) -> str:
        return event.content_type.model if event.content_type_id else ""


class AuditEventPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = AuditEventSerializer(many=True)


_PARAMS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME),
    OpenApiParameter("end", OpenApiTypes.DATETIME),
    OpenApiParameter("user", OpenApiTypes.STR, description="username"),
    OpenApiParameter("patient", OpenApiTypes.INT),
    OpenApiParameter("action", OpenApiTypes.STR, enum=Action.values),
    OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
    OpenApiParameter("outcome", OpenApiTypes.STR, enum=["success", "denied"]),
    OpenApiParameter("sort", OpenApiTypes.STR, description="a column, '-' prefix for descending"),
    OpenApiParameter("cursor", OpenApiTypes.STR),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 500, default 50"),
]


class AuditEventListView(APIView):
    permission_classes = [*APIView.permission_classes, CanViewAudit]

    @extend_schema(parameters=_PARAMS, responses=AuditEventPageSerializer)
    def get(self, request: Request) -> Response:
        form = AuditFilterForm({k: v for k, v in request.query_params.items() if k not in ("cursor", "page_size")})
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        try:
            size = int(request.query_params.get("page_size", 50))
        except ValueError:
            raise ValidationError({"page_size": ["Give a whole number from 1 to 500."]}) from None
        if not 1 <= size <= 500:
            raise ValidationError({"page_size": ["Give a whole number from 1 to 500."]})
        filters = form.to_filters()
        cursor = request.query_params.get("cursor")
        page = audit_events_page(
            filters=filters, sort=parse_sort(form.cleaned_data.get("sort")), cursor=cursor, size=size
        )
        if cursor and page.notes:
            raise ValidationError({"cursor": ["This cursor is not valid."]})
        audit_event_record(
            action=Action.QUERY,
            category=Category.SECURITY,
            patient_id=filters.patient_id,
            object_label="audit events API",
            reason=filters.describe(),
        )

        def url(c):
            if not c:
                return None
            params = request.query_params.copy()
            params["cursor"] = c
            return request.build_absolute_uri(request.path) + "?" + params.urlencode()

        return Response(
            {
                "next": url(page.next_cursor),
                "previous": url(page.prev_cursor),
                "results": AuditEventSerializer(page.rows, many=True).data,
            }
        )
