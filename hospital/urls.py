from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

import hospital.converters  # noqa: F401  (registers the "id" converter)
from accounts.api.notifications import NotificationListView, NotificationReadView
from accounts.api.views import MeView
from audit.api import AuditEventListView
from records.api import PatientChartView

from . import views

api_v1 = [
    path("me/", MeView.as_view(), name="me"),
    path("audit/events/", AuditEventListView.as_view(), name="audit-events"),
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/<id:notification_id>/read/", NotificationReadView.as_view(), name="notification-read"),
    path("", include("beds.api_urls")),
    path("patients/<id:patient_id>/", PatientChartView.as_view(), name="patient-chart"),
    path("", include("records.api_urls")),
]


@method_decorator(
    # Swagger UI (vendored, pinned) injects one fixed style element; allow exactly that one.
    csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]}),
    name="dispatch",
)
class ApiDocsView(SpectacularSwaggerSplitView):
    pass


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("beds/", include("beds.urls")),
    path("records/", include("records.urls")),
    path("compliance/", include("compliance.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "hospital.views.bad_request"
handler403 = "hospital.views.permission_denied"
handler404 = "hospital.views.page_not_found"
handler500 = "hospital.views.server_error"
