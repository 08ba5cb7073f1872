"""Records pages: the chart and what clinicians add to it, emergency access, queues, appointments,
amendments, documents, and the patient's own pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import AmendmentRequestForm, AppointmentForm
from .models import Amendment, Appointment, AppointmentStatus, Patient
from .permissions import (
    can_book_appointment,
    can_break_glass,
    can_decide_amendment,
    can_manage_appointment,
    can_redeem_consent,
    can_search_patients,
    can_use_lab_queue,
    can_use_pharmacy_queue,
    can_view_appointments,
    can_write_clinical,
    is_own_record,
    record_parts,
)


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
    if not can_redeem_consent(request.user):
        raise PermissionDenied("Only a doctor, nurse, pharmacist or lab technician can use a patient's consent code.")
    try:
        services.consent_code_redeem(actor=request.user, patient=patient, code=request.POST.get("code", ""))
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The patient's consent code opened the record.")
    return redirect("records:chart", patient_id=patient.pk)


def _own_patient(request: HttpRequest) -> Patient:
    """The record linked to the signed-in account; 403 for accounts without one (staff)."""
    patient = Patient.objects.filter(user=request.user).first()
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


@login_required
def search_view(request: HttpRequest) -> HttpResponse:
    """Find a patient: by exact record number (to open or request emergency access), or by name among
    the patients you already have access to. Nobody can list patients they may not see."""
    from .permissions import can_grant

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


# --- appointments -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def appointments_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's appointments for staff who may see them: book one (doctors and nurses with the
    full record), and mark scheduled ones completed, cancelled or no-show."""
    patient = get_object_or_404(Patient, pk=patient_id)
    parts = record_parts(user=request.user, patient=patient)
    can_book = can_view_appointments(user=request.user, patient=patient, parts=parts) and can_book_appointment(
        user=request.user, patient=patient, parts=parts
    )
    form = None
    if can_book:
        form = AppointmentForm(
            request.POST if request.method == "POST" else None,
            clinicians=selectors.appointment_clinicians(user=request.user),
        )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a doctor or nurse with access to the full record can book appointments.")
        if form.is_valid():
            try:
                services.appointment_create(actor=request.user, patient=patient, **form.cleaned_data)
            except services.PatientError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Appointment booked.")
                return redirect("records:appointments", patient_id=patient.pk)
    appointments = selectors.appointments_for_patient(user=request.user, patient=patient)
    if appointments is None:
        raise PermissionDenied("You have no access to this patient's record.")
    appointments = list(appointments[:200])
    manageable = {a.pk for a in appointments if can_manage_appointment(user=request.user, appointment=a, parts=parts)}
    return render(
        request,
        "records/appointments.html",
        {
            "patient": patient,
            "appointments": appointments,
            "manageable": manageable,
            "form": form,
            "scheduled": AppointmentStatus.SCHEDULED,
            "moves": [s for s in AppointmentStatus if s != AppointmentStatus.SCHEDULED],
        },
        status=200 if form is None or not form.errors else 400,
    )


@login_required
@require_POST
def appointment_status_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = get_object_or_404(Appointment.objects.select_related("patient"), pk=appointment_id)
    if not can_manage_appointment(user=request.user, appointment=appointment):
        raise PermissionDenied("You cannot change this appointment.")
    try:
        appointment = services.appointment_set_status(
            actor=request.user, appointment_id=appointment.pk, status=request.POST.get("status", "")
        )
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Appointment marked {appointment.get_status_display().lower()}.")
    return redirect("records:appointments", patient_id=appointment.patient_id)


@login_required
def my_appointments_view(request: HttpRequest) -> HttpResponse:
    """The patient's own upcoming and past appointments."""
    patient = _own_patient(request)
    context = selectors.my_appointments(user=request.user, patient=patient)
    request.force_no_store = True
    return render(request, "records/my_appointments.html", {**context, "scheduled": AppointmentStatus.SCHEDULED})


@login_required
@require_POST
def my_appointment_cancel_view(request: HttpRequest, appointment_id: int) -> HttpResponse:
    patient = _own_patient(request)
    appointment = get_object_or_404(Appointment, pk=appointment_id, patient=patient)
    try:
        services.appointment_cancel_by_patient(actor=request.user, appointment_id=appointment.pk)
    except services.PatientError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Appointment cancelled.")
    return redirect("records:my_appointments")


# --- amendments ---------------------------------------------------------------------------------


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


# --- the patient's documents --------------------------------------------------------------------


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
