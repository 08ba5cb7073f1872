from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from . import api

urlpatterns = [
    path("hospitals/", api.HospitalList.as_view(), name="hospitals"),
    path("beds/", api.BedList.as_view(), name="beds"),
    path("beds/<id:bed_id>/status/", api.BedStatusView.as_view(), name="bed-status"),
    path("availability/", api.AvailabilityView.as_view(), name="availability"),
    path("admissions/", api.AdmissionList.as_view(), name="admissions"),
    path("admissions/<id:admission_id>/<str:action>/", api.AdmissionAction.as_view(), name="admission-action"),
]
