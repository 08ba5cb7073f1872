"""Amendments: the patient's request, and the decision of a doctor or nurse caring for them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..forms import AmendmentRequestForm
from ..models import Amendment
from ..permissions import can_decide_amendment
from .portal import _own_patient


@login_required
@require_POST
def my_amendment_request_view(request: HttpRequest) -> HttpResponse:
    """The patient asks for a record of theirs, or their details, to be amended."""
    patient = _own_patient(request)
    form = AmendmentRequestForm(request.POST, choices=selectors.amendable_records(patient=patient))
    try:
        if not form.is_valid():
            raise services.PatientError(" ".join(e for errors in form.errors.values() for e in errors))
        key = form.cleaned_data["target"]
        target = selectors.amendable_record(patient=patient, key=key) if key else None
        if key and target is None:
            raise services.PatientError("Choose one of your records, or your details.")
        services.amendment_request(actor=request.user, patient=patient, target=target, text=form.cleaned_data["text"])
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Amendment requested. Your care team will accept or deny it; you will see it here.")
    return redirect("records:my_record")


@login_required
@require_POST
def amendment_decide_view(request: HttpRequest, amendment_id: int) -> HttpResponse:
    # Only the ids: the permission answer needs no decrypted text.
    amendment = get_object_or_404(Amendment.objects.only("id", "patient_id"), pk=amendment_id)
    if not can_decide_amendment(user=request.user, patient=amendment.patient):
        raise PermissionDenied("You cannot decide amendments to this record.")
    decision = request.POST.get("decision", "")
    try:
        if decision not in ("accept", "deny"):
            raise services.PatientError("Accept or deny the request.")
        services.amendment_decide(
            actor=request.user,
            amendment_id=amendment.pk,
            accept=decision == "accept",
            reason=request.POST.get("reason", ""),
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Amendment accepted." if decision == "accept" else "Amendment denied.")
    return redirect("records:chart", patient_id=amendment.patient_id)
