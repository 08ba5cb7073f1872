"""REST for records: the chart, patients and consent, what doctors add to the chart, the pharmacy and
lab queues, appointments. Same permission answers, services and auditing as the pages."""

from .appointments import AppointmentDetailView, PatientAppointmentsView
from .chart import PatientChartView
from .clinical import (
    PatientAllergiesView,
    PatientDiagnosesView,
    PatientLabOrdersView,
    PatientNotesView,
    PatientPrescriptionsView,
)
from .patients import ConsentRedeemView, PatientListView
from .queues import DispenseView, LabQueueView, LabResultView, PharmacyQueueView

__all__ = [
    "AppointmentDetailView",
    "ConsentRedeemView",
    "DispenseView",
    "LabQueueView",
    "LabResultView",
    "PatientAllergiesView",
    "PatientAppointmentsView",
    "PatientChartView",
    "PatientDiagnosesView",
    "PatientLabOrdersView",
    "PatientListView",
    "PatientNotesView",
    "PatientPrescriptionsView",
    "PharmacyQueueView",
]
