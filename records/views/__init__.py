"""Records pages: the chart and what clinicians add to it, emergency access, queues, appointments,
amendments, documents, and the patient's own pages.

One module per subject; every view is re-exported here, where records/urls.py finds it."""

from .access import break_glass_view, consent_redeem_view, grant_add_view, search_view
from .amendments import amendment_decide_view, my_amendment_request_view
from .appointments import (
    appointment_status_view,
    appointments_view,
    my_appointment_cancel_view,
    my_appointments_view,
)
from .chart import chart_view, diagnosis_add_view, lab_order_view, note_add_view, prescription_add_view
from .documents import document_upload_view, document_view, my_document_upload_view
from .portal import my_record_view
from .queues import dispense_view, lab_view, pharmacy_view

__all__ = [
    "amendment_decide_view",
    "appointment_status_view",
    "appointments_view",
    "break_glass_view",
    "chart_view",
    "consent_redeem_view",
    "diagnosis_add_view",
    "dispense_view",
    "document_upload_view",
    "document_view",
    "grant_add_view",
    "lab_order_view",
    "lab_view",
    "my_amendment_request_view",
    "my_appointment_cancel_view",
    "my_appointments_view",
    "my_document_upload_view",
    "my_record_view",
    "note_add_view",
    "pharmacy_view",
    "prescription_add_view",
    "search_view",
]
