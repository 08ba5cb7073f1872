from django.urls import path

import hospital.converters  # noqa: F401  (registers the "id" converter)

from .views import board, hospital

app_name = "beds"

urlpatterns = [
    path("", board.board_view, name="board"),
    path("public/", board.public_board_view, name="public_board"),
    path("dashboard/", board.dashboard_view, name="dashboard"),
    path("dashboard/occupancy.csv", board.occupancy_csv_view, name="occupancy_csv"),
    path("alerts/", board.alert_view, name="alerts"),
    path("alerts/<id:alert_id>/resolve/", board.alert_resolve_view, name="alert_resolve"),
    path("hospitals/<id:hospital_id>/", hospital.hospital_view, name="hospital"),
    path("hospitals/<id:hospital_id>/book/", hospital.book_view, name="book"),
    path("hospitals/<id:hospital_id>/wards/", hospital.ward_create_view, name="ward_create"),
    path("hospitals/<id:hospital_id>/beds/", hospital.bed_create_view, name="bed_create"),
    path("wards/<id:ward_id>/toggle/", hospital.ward_toggle_view, name="ward_toggle"),
    path("beds/<id:bed_id>/status/", hospital.bed_status_view, name="bed_status"),
    path("admissions/<id:admission_id>/<str:action>/", hospital.admission_action_view, name="admission_action"),
]
