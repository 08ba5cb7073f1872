"""Appointments: a patient's for staff (book, mark completed, cancelled or no-show), and the patient's
own (see, cancel)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms import AppointmentForm
from ..models import Appointment, AppointmentStatus, Patient
from ..permissions import can_book_appointment, can_manage_appointment, can_view_appointments, record_parts
from .portal import _own_patient


@login_required
@require_http_methods(["GET", "POST"])
def appointments_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's appointments for staff who may see them: book one (doctors and nurses with the
    full record), and mark scheduled ones completed, cancelled or no-show."""
    patient = get_object_or_404(Patient, pk=patient_id)
    parts = record_parts(user=request.user, patient=patient)
    can_book = can_view_appointments(user=request.user, patient=patient, parts=parts) and can_book_appointment(
        user=request.user, patient=patient, parts=parts
    )
    form = None
    if can_book:
        form = AppointmentForm(
            request.POST if request.method == "POST" else None,
            clinicians=selectors.appointment_clinicians(user=request.user),
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a doctor or nurse with access to the full record can book appointments.")
        if form.is_valid():
            try:
                services.appointment_create(actor=request.user, patient=patient, **form.cleaned_data)
            except services.PatientError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Appointment booked.")
                return redirect("records:appointments", patient_id=patient.pk)
    appointments = selectors.appointments_for_patient(user=request.user, patient=patient)
    if appointments is None:
        raise PermissionDenied("You have no access to this patient's record.")
    appointments = list(appointments[:200])
    manageable = {a.pk for a in appointments if can_manage_appointment(user=request.user, appointment=a, parts=parts)}
    return render(
        request,
        "records/appointments.html",
        {
            "patient": patient,
            "appointments": appointments,
            "manageable": manageable,
            "form": form,
            "scheduled": AppointmentStatus.SCHEDULED,
            "moves": [s for s in AppointmentStatus if s != AppointmentStatus.SCHEDULED],
        },
        status=200 if form is None or not form.errors else 400,
    )


@login_required
@require_POST
def appointment_status_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=appointment_id)
    if not can_manage_appointment(user=request.user, appointment=appointment):
        raise PermissionDenied("You cannot change this appointment.")
    try:
        appointment = services.appointment_set_status(
            actor=request.user, appointment_id=appointment.pk, status=request.POST.get("status", "")
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Appointment marked {appointment.get_status_display().lower()}.")
    return redirect("records:appointments", patient_id=appointment.patient_id)


@login_required
def my_appointments_view(request: HttpRequest) -> HttpResponse:
    """The patient's own upcoming and past appointments."""
    patient = _own_patient(request)
    context = selectors.my_appointments(user=request.user, patient=patient)
    request.force_no_store = True
    return render(request, "records/my_appointments.html", {**context, "scheduled": AppointmentStatus.SCHEDULED})


@login_required
@require_POST
def my_appointment_cancel_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    patient = _own_patient(request)
    appointment = get_object_or_404(Appointment, pk=appointment_id, patient=patient)
    try:
        services.appointment_cancel_by_patient(actor=request.user, appointment_id=appointment.pk)
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Appointment cancelled.")
    return redirect("records:my_appointments")
