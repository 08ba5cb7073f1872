"""Patient chart, emergency access and diagnoses (a first slice of the records pages)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
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


@login_required
@require_POST
def consent_redeem_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    try:
        services.consent_code_redeem(actor=request.user, patient=patient, code=request.POST.get("code", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The patient's consent code opened the record.")
    return redirect("records:chart", patient_id=patient.pk)


@login_required
@require_http_methods(["GET", "POST"])
def my_record_view(request: HttpRequest) -> HttpResponse:
    """The patient's own page: who may see the record (revoke any grant) and consent codes."""
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        raise PermissionDenied("Your account is not linked to a patient record.")
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
    context = selectors.my_record(patient=patient)
    request.force_no_store = True
    return render(request, "records/my_record.html", {**context, "new_code": new_code})


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    """Find a patient: by exact record number (to open or request emergency access), or by name among
    the patients you already have access to. Nobody can list patients they may not see."""
    from accounts.roles import STAFF_ROLES

    from .permissions import can_grant

    if not request.user.is_staff_member or not (request.user.role_names & {r.value for r in STAFF_ROLES}):
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
        results = selectors.accessible_patients_by_name(user=request.user, name=query)
        if not results and sum(ch.isdigit() for ch in query) >= 6:
            results = selectors.patients_by_phone(user=request.user, phone=query)
    return render(
        request, "records/search.html", {"query": query, "results": results, "can_grant": can_grant(request.user)}
    )


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
def pharmacy_view(request: HttpRequest) -> HttpResponse:
    from accounts.roles import Role

    if not request.user.has_role(Role.PHARMACIST):
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
@require_http_methods(["GET", "POST"])
def lab_view(request: HttpRequest) -> HttpResponse:
    from accounts.roles import Role

    if not request.user.has_role(Role.LAB_TECHNICIAN):
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


@login_required
@require_POST
def grant_add_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A hospital admin adds a clinician (by username) to the patient's care team."""
    from accounts.models import User

    from .permissions import can_grant

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
