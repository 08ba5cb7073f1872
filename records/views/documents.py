"""Documents: uploads by clinicians and by the patient, and downloads (refused when a document fails
its integrity check)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import services
from ..models import Patient
from .portal import _own_patient


@login_required
@require_POST
def document_upload_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        services.document_upload(
            actor=request.user, patient=patient, upload=request.FILES.get("file"), title=request.POST.get("title", "")
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Document stored (encrypted).")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
def document_view(request: HttpRequest, document_id: int) -> HttpResponse:
    from audit.signals import phi_accessed

    try:
        document, data = services.document_read(actor=request.user, document_id=document_id)
    except PermissionError:
        raise PermissionDenied("You have no access to this document.") from None
    except services.PatientError as exc:
        phi_accessed.send(
            sender=document_view,
            action="view",
            category="document",
            object_label=f"document {document_id}",
            outcome="denied",
            reason="integrity check failed",
            actor=request.user,
        )
        return render(
            request,
            "error.html",
            {
                "status": 409,
                "title": "Integrity error",
                "message": str(exc),
                "request_id": getattr(request, "request_id", ""),
            },
            status=409,
        )
    if document is None:
        raise Http404("No such document.")
    phi_accessed.send(
        sender=document_view,
        action="export",
        category="document",
        patient_id=document.patient_id,
        obj=document,
        object_label=f"document {document.pk}",
        actor=request.user,
    )
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[document.content_type]
    response = HttpResponse(data, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="document-{document.pk}.{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def my_document_upload_view(request: HttpRequest) -> HttpResponse:
    """The patient adds a document to their own record (the same checks as a clinician's upload)."""
    patient = _own_patient(request)
    try:
        services.document_upload(
            actor=request.user, patient=patient, upload=request.FILES.get("file"), title=request.POST.get("title", "")
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Document stored (encrypted).")
    return redirect("records:my_record")
