from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import api

urlpatterns = [
    path("patients/", api.PatientListView.as_view(), name="patients"),
    path("patients/<id:patient_id>/appointments/", api.PatientAppointmentsView.as_view(), name="patient-appointments"),
    path("patients/<id:patient_id>/diagnoses/", api.PatientDiagnosesView.as_view(), name="patient-diagnoses"),
    path(
        "patients/<id:patient_id>/prescriptions/", api.PatientPrescriptionsView.as_view(), name="patient-prescriptions"
    ),
    path("patients/<id:patient_id>/lab-orders/", api.PatientLabOrdersView.as_view(), name="patient-lab-orders"),
    path("patients/<id:patient_id>/notes/", api.PatientNotesView.as_view(), name="patient-notes"),
    path("patients/<id:patient_id>/allergies/", api.PatientAllergiesView.as_view(), name="patient-allergies"),
    path("patients/<id:patient_id>/consent/", api.ConsentRedeemView.as_view(), name="patient-consent"),
    path("appointments/<id:appointment_id>/", api.AppointmentDetailView.as_view(), name="appointment"),
    path("pharmacy/prescriptions/", api.PharmacyQueueView.as_view(), name="pharmacy-queue"),
    path("prescriptions/<id:prescription_id>/dispense/", api.DispenseView.as_view(), name="prescription-dispense"),
    path("lab/tests/", api.LabQueueView.as_view(), name="lab-queue"),
    path("lab-tests/<id:lab_test_id>/result/", api.LabResultView.as_view(), name="lab-test-result"),
]
