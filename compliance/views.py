"""Accounting of disclosures: the patient sees who accessed their record (ONC 170.315(d)(11))."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.selectors import AuditFilters, audit_events_page
from records.selectors import own_patient


@login_required
def my_access_view(request: HttpRequest) -> HttpResponse:
    patient = own_patient(user=request.user)
    if patient is None:
        raise PermissionDenied("Your account is not linked to a patient record.")
    page = audit_events_page(
        filters=AuditFilters(patient_id=patient.pk), sort="-occurred_at", cursor=request.GET.get("cursor"), size=50
    )
    request.force_no_store = True
    return render(request, "compliance/my_access.html", {"patient": patient, "page": page})
