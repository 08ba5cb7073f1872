"""The patient's own record page (who may see it, consent codes, amendment requests, documents), and
the signed-in patient's record that every "my" page starts from."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import selectors, services
from ..forms import AmendmentRequestForm
from ..models import Patient


def _own_patient(request: HttpRequest) -> Patient:
    """The record linked to the signed-in account; 403 for accounts without one (staff)."""
    patient = selectors.own_patient(user=request.user)
    if patient is None:
        raise PermissionDenied("Your account is not linked to a patient record.")
    return patient


@login_required
@require_http_methods(["GET", "POST"])
def my_record_view(request: HttpRequest) -> HttpResponse:
    """The patient's own page: who may see the record (revoke any grant), consent codes, amendment
    requests and documents."""
    patient = _own_patient(request)
    new_code = None
    if request.method == "POST":
        try:
            if "revoke" in request.POST:
                services.grant_revoke_by_patient(actor=request.user, grant_id=int(request.POST["revoke"]))
                messages.success(request, "Access ended.")
                return redirect("records:my_record")
            _, new_code = services.consent_code_create(
                actor=request.user,
                patient=patient,
                scope=request.POST.get("scope", "full"),
                valid_minutes=int(request.POST.get("valid_minutes", 60)),
                grant_hours=int(request.POST.get("grant_hours", 24)),
            )
        except (services.PatientError, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, services.PatientError) else "Give whole numbers.")
    context = selectors.my_record(user=request.user, patient=patient)
    amendment_form = AmendmentRequestForm(choices=context["amendable"])
    request.force_no_store = True
    return render(
        request, "records/my_record.html", {**context, "new_code": new_code, "amendment_form": amendment_form}
    )
