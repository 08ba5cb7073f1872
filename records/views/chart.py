"""The chart, and what clinicians add to it: diagnoses, prescriptions, lab orders, notes and allergies."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..models import Patient
from ..permissions import can_break_glass, can_view_appointments, can_write_clinical, is_own_record


@login_required
def chart_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    chart = selectors.patient_chart(user=request.user, patient=patient)
    if chart is None:
        # No access: say so, and offer emergency access to the roles that have it.
        response = render(
            request,
            "records/no_access.html",
            {"patient_id": patient.pk, "can_break_glass": can_break_glass(request.user)},
            status=403,
        )
        return response
    return render(
        request,
        "records/chart.html",
        {
            **chart,
            "can_write": can_write_clinical(user=request.user, patient=patient),
            "can_see_appointments": can_view_appointments(user=request.user, patient=patient, parts=chart["parts"]),
            "is_own": is_own_record(user=request.user, patient=patient),
        },
    )


@login_required
@require_http_methods(["POST"])
def diagnosis_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_write_clinical(user=request.user, patient=patient):
        raise PermissionDenied("You cannot add to this patient's record.")
    try:
        services.diagnosis_create(
            actor=request.user, patient=patient, code=request.POST.get("code", ""), text=request.POST.get("text", "")
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Diagnosis added.")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
@require_POST
def prescription_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_write_clinical(user=request.user, patient=patient):
        raise PermissionDenied("You cannot add to this patient's record.")
    try:
        services.prescription_create(
            actor=request.user,
            patient=patient,
            medication=request.POST.get("medication", ""),
            dose=request.POST.get("dose", ""),
            frequency=request.POST.get("frequency", ""),
            duration_days=int(request.POST.get("duration_days") or 0),
            instructions=request.POST.get("instructions", ""),
        )
    except (services.PatientError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, services.PatientError) else "Give the days as a number.")
    else:
        messages.success(request, "Prescription added; it is in the pharmacy queue.")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
@require_POST
def lab_order_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_write_clinical(user=request.user, patient=patient):
        raise PermissionDenied("You cannot add to this patient's record.")
    try:
        services.lab_order(actor=request.user, patient=patient, test=request.POST.get("test", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Test ordered; it is in the lab queue.")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
@require_POST
def note_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_write_clinical(user=request.user, patient=patient):
        raise PermissionDenied("You cannot add to this patient's record.")
    try:
        if request.POST.get("kind") == "allergy":
            services.allergy_create(
                actor=request.user,
                patient=patient,
                substance=request.POST.get("substance", ""),
                severity=request.POST.get("severity", ""),
                reaction=request.POST.get("reaction", ""),
            )
        else:
            services.note_create(actor=request.user, patient=patient, text=request.POST.get("text", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Added to the record.")
    return redirect("records:chart", patient_id=patient.pk)
