"""The pharmacy queue (dispensing) and the lab queue (recording results)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..permissions import can_use_lab_queue, can_use_pharmacy_queue


@login_required
def pharmacy_view(request: HttpRequest) -> HttpResponse:
    if not can_use_pharmacy_queue(request.user):
        raise PermissionDenied("The pharmacy queue is for pharmacists.")
    return render(request, "records/pharmacy.html", {"queue": selectors.pharmacy_queue(user=request.user)})


@login_required
@require_POST
def dispense_view(request: HttpRequest, prescription_id: int) -> HttpResponse:
    try:
        services.prescription_dispense(actor=request.user, prescription_id=prescription_id)
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Dispensed.")
    return redirect("records:pharmacy")


@login_required
@require_http_methods(["GET", "POST"])
def lab_view(request: HttpRequest) -> HttpResponse:
    if not can_use_lab_queue(request.user):
        raise PermissionDenied("The lab queue is for lab technicians.")
    if request.method == "POST":
        try:
            services.lab_result(
                actor=request.user,
                lab_test_id=int(request.POST.get("order") or 0),
                result=request.POST.get("result", ""),
                reference_range=request.POST.get("reference_range", ""),
            )
        except (services.PatientError, ValueError) as exc:
            messages.error(request, str(exc) if isinstance(exc, services.PatientError) else "Unknown order.")
        else:
            messages.success(request, "Result recorded.")
        return redirect("records:lab")
    return render(request, "records/lab.html", {"queue": selectors.lab_queue(user=request.user)})
