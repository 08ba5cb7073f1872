from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.api.views import MeView
from audit.api import AuditEventListView

from . import views

api_v1 = [
    path("me/", MeView.as_view(), name="me"),
    path("audit/events/", AuditEventListView.as_view(), name="audit-events"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "hospital.views.bad_request"
handler403 = "hospital.views.permission_denied"
handler404 = "hospital.views.page_not_found"
handler500 = "hospital.views.server_error"
