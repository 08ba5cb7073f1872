from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.report_view, name="report"),
    path("export.csv", views.export_view, name="export"),
    path("patients/<id:patient_id>/", views.patient_timeline_view, name="patient_timeline"),
    path("users/<id:user_id>/", views.user_activity_view, name="user_activity"),
]
