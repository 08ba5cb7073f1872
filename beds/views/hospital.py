"""One hospital: wards and beds as a grid, with the actions the user may take."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Hospital
from audit.signals import phi_accessed
from records.selectors import patient_by_mrn
from records.services import PatientError, patient_create

from .. import selectors, services
from ..forms import BedCreateForm, BedStatusForm, BookForm, TransferForm, WardForm
from ..models import Admission, Bed, BedStatus, Ward
from ..permissions import can_act_in_hospital, can_edit_capacity, can_view_board


def _hospital_for(request: HttpRequest, hospital_id: int, *, act: bool = False, capacity: bool = False) -> Hospital:
    hospital = get_object_or_404(Hospital, pk=hospital_id)
    if not can_view_board(request.user):
        raise PermissionDenied("Bed views are for hospital staff.")
    if act and not can_act_in_hospital(request.user, hospital.pk):
        raise PermissionDenied("You cannot manage beds in this hospital.")
    if capacity and not can_edit_capacity(request.user, hospital.pk):
        raise PermissionDenied("Only this hospital's administrators can change its capacity.")
    return hospital


@login_required
def hospital_view(request: HttpRequest, hospital_id: int) -> HttpResponse:
    hospital = _hospital_for(request, hospital_id)
    may_act = can_act_in_hospital(request.user, hospital.pk)
    wards = selectors.hospital_grid(hospital=hospital)
    if may_act:
        phi_accessed.send(
            sender=hospital_view, action="view", category="bed", object_label=f"bed grid of hospital {hospital.code}"
        )
    return render(
        request,
        "beds/hospital.html",
        {
            "hospital": hospital,
            "wards": wards,
            "may_act": may_act,
            "may_edit_capacity": can_edit_capacity(request.user, hospital.pk),
            "book_form": BookForm(),
            "status_form": BedStatusForm(),
            "ward_form": WardForm(),
            "statuses": BedStatus,
        },
    )


@login_required
def book_view(request: HttpRequest, hospital_id: int) -> HttpResponse:
    hospital = _hospital_for(request, hospital_id, act=True)
    form = BookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = patient_by_mrn(mrn=data["patient_mrn"])
            if patient is None:
                if not data["new_patient_name"] or not data["new_patient_dob"]:
                    raise PatientError(
                        "No patient has this medical record number. To register one, give the name and date of birth."
                    )
                patient = patient_create(
                    actor=request.user,
                    mrn=data["patient_mrn"],
                    name=data["new_patient_name"],
                    date_of_birth=data["new_patient_dob"],
                )
            common = {
                "actor": request.user,
                "patient": patient,
                "kind": data["kind"],
                "hospital": hospital,
                "priority": data["priority"],
                "reason": data["reason"],
            }
            if data["action"] == "hold":
                admission = services.admission_hold(**common, minutes=data["minutes"])
            else:
                admission = services.admission_book(**common)
        except (services.BookingError, PatientError) as exc:
            form.add_error(None, str(exc))
        else:
            verb = "held" if admission.status == "held" else "booked"
            messages.success(request, f"Bed {admission.bed.label} {verb} (admission {admission.pk}).")
            return redirect("beds:hospital", hospital_id=hospital.pk)
    return render(request, "beds/book.html", {"hospital": hospital, "form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def admission_action_view(request: HttpRequest, admission_id: int, action: str) -> HttpResponse:
    admission = get_object_or_404(Admission, pk=admission_id)
    hospital = _hospital_for(request, admission.hospital_id, act=True)
    try:
        if action == "confirm":
            services.admission_confirm_hold(actor=request.user, admission_id=admission.pk)
            messages.success(request, "The hold is now an admission.")
        elif action == "cancel":
            services.admission_cancel_hold(actor=request.user, admission_id=admission.pk)
            messages.success(request, "The hold is released.")
        elif action == "discharge":
            services.admission_discharge(actor=request.user, admission_id=admission.pk)
            messages.success(request, "Discharged; the bed goes to cleaning.")
        elif action == "transfer":
            form = TransferForm(request.POST)
            if not form.is_valid():
                raise services.BookingError("Give the id of the bed to move the patient to.")
            target = Bed.objects.filter(pk=form.cleaned_data["to_bed"]).first()
            if target is None:
                raise services.BookingError("That bed does not exist.")
            if not can_act_in_hospital(request.user, target.hospital_id):
                raise PermissionDenied("You cannot move patients into that hospital.")
            services.admission_transfer(actor=request.user, admission_id=admission.pk, to_bed_id=target.pk)
            messages.success(request, f"Moved to bed {target.label}.")
        else:
            messages.error(request, "Unknown action.")
    except services.BookingError as exc:
        messages.error(request, str(exc))
    return redirect("beds:hospital", hospital_id=hospital.pk)


@login_required
@require_POST
def bed_status_view(request: HttpRequest, bed_id: int) -> HttpResponse:
    bed = get_object_or_404(Bed, pk=bed_id)
    hospital = _hospital_for(request, bed.hospital_id, act=True)
    form = BedStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid status.")
        return redirect("beds:hospital", hospital_id=hospital.pk)
    status = form.cleaned_data["status"]
    capacity_change = BedStatus.CLOSED in (status, bed.status) or BedStatus.ISOLATED in (status, bed.status)
    if capacity_change and not can_edit_capacity(request.user, hospital.pk):
        # Closing and reopening are capacity decisions.
        raise PermissionDenied("Only this hospital's administrators can close or reopen beds.")
    try:
        services.bed_set_status(actor=request.user, bed_id=bed.pk, status=status)
    except services.CapacityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Bed {bed.label} is now {BedStatus(status).label.lower()}.")
    return redirect("beds:hospital", hospital_id=hospital.pk)


@login_required
@require_POST
def ward_create_view(request: HttpRequest, hospital_id: int) -> HttpResponse:
    hospital = _hospital_for(request, hospital_id, capacity=True)
    form = WardForm(request.POST)
    if form.is_valid():
        try:
            services.ward_create(actor=request.user, hospital=hospital, **form.cleaned_data)
        except services.CapacityError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Ward added.")
    else:
        messages.error(request, "Give the ward a name.")
    return redirect("beds:hospital", hospital_id=hospital.pk)


@login_required
@require_POST
def ward_toggle_view(request: HttpRequest, ward_id: int) -> HttpResponse:
    ward = get_object_or_404(Ward, pk=ward_id)
    hospital = _hospital_for(request, ward.hospital_id, capacity=True)
    try:
        services.ward_set_active(actor=request.user, ward_id=ward.pk, active=not ward.active)
    except services.CapacityError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Ward {ward.name} {'reopened' if not ward.active else 'closed'}.")
    return redirect("beds:hospital", hospital_id=hospital.pk)


@login_required
@require_POST
def bed_create_view(request: HttpRequest, hospital_id: int) -> HttpResponse:
    hospital = _hospital_for(request, hospital_id, capacity=True)
    form = BedCreateForm(request.POST)
    ward = Ward.objects.filter(pk=form.data.get("ward") or 0, hospital=hospital).first() if form.is_valid() else None
    if ward is None:
        messages.error(request, "Give a label and kind for the new bed.")
    else:
        try:
            services.bed_create(
                actor=request.user,
                ward=ward,
                label=form.cleaned_data["label"],
                kind=form.cleaned_data["kind"],
                equipment_notes=form.cleaned_data["equipment_notes"],
            )
        except services.CapacityError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Bed added.")
    return redirect("beds:hospital", hospital_id=hospital.pk)
