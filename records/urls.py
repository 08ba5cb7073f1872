from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import views

app_name = "records"

urlpatterns = [
    path("patients/<id:patient_id>/", views.chart_view, name="chart"),
    path("patients/<id:patient_id>/break-glass/", views.break_glass_view, name="break_glass"),
    path("patients/<id:patient_id>/diagnoses/", views.diagnosis_add_view, name="diagnosis_add"),
    path("patients/<id:patient_id>/consent/", views.consent_redeem_view, name="consent_redeem"),
    path("patients/<id:patient_id>/grants/", views.grant_add_view, name="grant_add"),
    path("patients/<id:patient_id>/prescriptions/", views.prescription_add_view, name="prescription_add"),
    path("patients/<id:patient_id>/lab/", views.lab_order_view, name="lab_order"),
    path("patients/<id:patient_id>/notes/", views.note_add_view, name="note_add"),
    path("lab/", views.lab_view, name="lab"),
    path("patients/<id:patient_id>/documents/", views.document_upload_view, name="document_upload"),
    path("documents/<id:document_id>/", views.document_view, name="document"),
    path("pharmacy/", views.pharmacy_view, name="pharmacy"),
    path("pharmacy/<id:prescription_id>/dispense/", views.dispense_view, name="dispense"),
    path("patients/<id:patient_id>/appointments/", views.appointments_view, name="appointments"),
    path("appointments/<id:appointment_id>/status/", views.appointment_status_view, name="appointment_status"),
    path("amendments/<id:amendment_id>/decide/", views.amendment_decide_view, name="amendment_decide"),
    path("my/", views.my_record_view, name="my_record"),
    path("my/amendments/", views.my_amendment_request_view, name="my_amendment_request"),
    path("my/documents/", views.my_document_upload_view, name="my_document_upload"),
    path("my/appointments/", views.my_appointments_view, name="my_appointments"),
    path("my/appointments/<id:appointment_id>/cancel/", views.my_appointment_cancel_view, name="my_appointment_cancel"),
    path("search/", views.search_view, name="search"),
]
