"""Finding a patient and getting access: search, emergency access (break-glass), the patient's
consent code, and a hospital admin adding a clinician to the care team."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..models import Patient
from ..permissions import can_redeem_consent, can_search_patients


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
@require_POST
def consent_redeem_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_redeem_consent(request.user):
        raise PermissionDenied("Only a doctor, nurse, pharmacist or lab technician can use a patient's consent code.")
    try:
        services.consent_code_redeem(actor=request.user, patient=patient, code=request.POST.get("code", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The patient's consent code opened the record.")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    """Find a patient: by exact record number (to open or request emergency access), or by name among
    the patients you already have access to. Nobody can list patients they may not see."""
    from ..permissions import can_grant

    if not can_search_patients(request.user):
        raise PermissionDenied("Patient search is for clinical staff.")
    query = (request.GET.get("q") or "").strip()[:200]
    if query:
        by_mrn = selectors.patient_by_mrn(mrn=query)
        if by_mrn is not None:
            if can_grant(request.user) and request.GET.get("manage"):
                # Hospital admins manage the care team without opening the record.
                return render(request, "records/grant.html", {"patient_id": by_mrn.pk, "mrn": by_mrn.mrn})
            return redirect("records:chart", patient_id=by_mrn.pk)
    results = []
    if query:
        results = list(selectors.accessible_patients(user=request.user, query=query))
        selectors.patients_listed(user=request.user, count=len(results), searched=True)
    return render(
        request, "records/search.html", {"query": query, "results": results, "can_grant": can_grant(request.user)}
    )


@login_required
@require_POST
def grant_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A hospital admin adds a clinician (by username) to the patient's care team."""
    from accounts.models import User

    from ..permissions import can_grant

    patient = get_object_or_404(Patient, pk=patient_id)
    if not can_grant(request.user):
        raise PermissionDenied("Only hospital administrators can add clinicians to a care team.")
    grantee = User.objects.filter(username=(request.POST.get("username") or "").strip().lower(), is_active=True).first()
    try:
        if grantee is None:
            raise services.PatientError("No active user has this username.")
        services.grant_care_team(
            actor=request.user,
            patient=patient,
            grantee=grantee,
            scope=request.POST.get("scope", "full"),
            hours=float(request.POST.get("hours") or 72),
        )
    except (services.PatientError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, services.PatientError) else "Give the hours as a number.")
    else:
        messages.success(request, f"{grantee.username} is on the care team.")
    return redirect("records:search")
