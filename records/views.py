"""Patient chart, emergency access and diagnoses (a first slice of the records pages)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .models import Patient
from .permissions import can_break_glass, can_write_clinical


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
        {**chart, "can_write": can_write_clinical(user=request.user, patient=patient)},
    )


@login_required
@require_POST
def break_glass_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        services.break_glass(actor=request.user, patient=patient, reason=request.POST.get("reason", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
        return redirect("records:chart", patient_id=patient.pk)
    messages.warning(request, "Emergency access granted for a short time. The privacy officer is told.")
    return redirect("records:chart", patient_id=patient.pk)


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
