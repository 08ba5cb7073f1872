"""The chart, and what clinicians add to it: diagnoses, prescriptions, lab orders, notes and allergies."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

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


def _chart_write(request: HttpRequest, patient_id: int, write: Callable[[Patient], object], done: str) -> HttpResponse:
    """The shape of every form on the chart: may this user write here (403 if not), run the service,
    say what happened, back to the chart. A refusal from the service is shown, never an error page."""
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_write_clinical(user=request.user, patient=patient):
        raise PermissionDenied("You cannot add to this patient's record.")
    try:
        write(patient)
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("records:chart", patient_id=patient.pk)


def _days(value: str) -> int:
    try:
        return int(value or 0)
    except ValueError:
        raise services.PatientError("Give the days as a number.") from None


@login_required
@require_POST
def diagnosis_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    post = request.POST
    return _chart_write(
        request,
        patient_id,
        lambda patient: services.diagnosis_create(
            actor=request.user, patient=patient, code=post.get("code", ""), text=post.get("text", "")
        ),
        "Diagnosis added.",
    )


@login_required
@require_POST
def prescription_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    post = request.POST
    return _chart_write(
        request,
        patient_id,
        lambda patient: services.prescription_create(
            actor=request.user,
            patient=patient,
            medication=post.get("medication", ""),
            dose=post.get("dose", ""),
            frequency=post.get("frequency", ""),
            duration_days=_days(post.get("duration_days", "")),
            instructions=post.get("instructions", ""),
        ),
        "Prescription added; it is in the pharmacy queue.",
    )


@login_required
@require_POST
def lab_order_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _chart_write(
        request,
        patient_id,
        lambda patient: services.lab_order(actor=request.user, patient=patient, test=request.POST.get("test", "")),
        "Test ordered; it is in the lab queue.",
    )


@login_required
@require_POST
def note_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One form for notes and allergies (kind=allergy)."""
    post = request.POST

    def write(patient: Patient) -> object:
        if post.get("kind") == "allergy":
            return services.allergy_create(
                actor=request.user,
                patient=patient,
                substance=post.get("substance", ""),
                severity=post.get("severity", ""),
                reaction=post.get("reaction", ""),
            )
        return services.note_create(actor=request.user, patient=patient, text=post.get("text", ""))

    return _chart_write(request, patient_id, write, "Added to the record.")
