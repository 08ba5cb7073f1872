from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import views

app_name = "records"

urlpatterns = [
    path("patients/<id:patient_id>/", views.chart_view, name="chart"),
    path("patients/<id:patient_id>/break-glass/", views.break_glass_view, name="break_glass"),
    path("patients/<id:patient_id>/diagnoses/", views.diagnosis_add_view, name="diagnosis_add"),
    path("patients/<id:patient_id>/consent/", views.consent_redeem_view, name="consent_redeem"),
    path("my/", views.my_record_view, name="my_record"),
    path("search/", views.search_view, name="search"),
]
