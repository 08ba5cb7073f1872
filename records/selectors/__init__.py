"""Reads of patient data, with the permission answer built in and integrity checked on every read.

One module per subject (patients, the chart and its clinical records, amendments, appointments, the
pharmacy and lab queues); everything public is re-exported here, so callers keep importing from
`records.selectors`."""

from __future__ import annotations

from .amendments import DETAILS_LABEL, AmendmentView, amendable_record, amendable_records
from .appointments import appointment_clinicians, appointments_for_patient, my_appointments
from .chart import my_record, patient_chart
from .clinical import DiagnosisView, chart_item
from .patients import (
    PHONE_SEARCH_MIN_DIGITS,
    accessible_patients,
    own_patient,
    patient_by_mrn,
    patients_by_name,
    patients_listed,
)
from .patients import _accessible as _accessible  # the records benchmark measures it (bench/records.py)
from .queues import lab_queue, pharmacy_queue

__all__ = [
    "DETAILS_LABEL",
    "PHONE_SEARCH_MIN_DIGITS",
    "AmendmentView",
    "DiagnosisView",
    "accessible_patients",
    "own_patient",
    "amendable_record",
    "amendable_records",
    "appointment_clinicians",
    "appointments_for_patient",
    "chart_item",
    "lab_queue",
    "my_appointments",
    "my_record",
    "patient_by_mrn",
    "patient_chart",
    "patients_by_name",
    "patients_listed",
    "pharmacy_queue",
]
