from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import api

urlpatterns = [
    path("patients/<id:patient_id>/appointments/", api.PatientAppointmentsView.as_view(), name="patient-appointments"),
    path("appointments/<id:appointment_id>/", api.AppointmentDetailView.as_view(), name="appointment"),
]
