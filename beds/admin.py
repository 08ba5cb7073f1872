from django.contrib import admin, messages

from . import services
from .models import Admission, Availability, Bed, EmergencyAlert, Ward
from .permissions import can_act_in_hospital, can_edit_capacity


def _run(modeladmin, request, queryset, check, action, done: str) -> None:
    ok, failed = 0, []
    for obj in queryset:
        if not check(request.user, obj.hospital_id):
            failed.append(f"{obj}: not your hospital")
            continue
        try:
            action(obj)
            ok += 1
        except (services.BookingError, services.CapacityError) as exc:
            failed.append(f"{obj}: {exc}")
    if ok:
        modeladmin.message_user(request, f"{done}: {ok}.", messages.SUCCESS)
    for line in failed[:10]:
        modeladmin.message_user(request, line, messages.ERROR)


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ["name", "hospital", "speciality", "active"]
    list_filter = ["active", "hospital__region", "hospital"]
    search_fields = ["name", "hospital__code", "hospital__name"]
    list_select_related = ["hospital"]


@admin.register(Bed)
class BedAdmin(admin.ModelAdmin):
    list_display = ["label", "ward", "hospital", "kind", "status", "updated_at"]
    list_filter = ["kind", "status", "hospital__region", "hospital"]
    search_fields = ["label", "ward__name", "hospital__code"]
    list_select_related = ["ward", "hospital"]
    # Status changes go through the services (transition map, board refresh, audit).
    readonly_fields = ["status", "hospital", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A bed does not move between wards (and hospitals) once it exists.
        return [*self.readonly_fields, "ward"] if obj is not None else self.readonly_fields

    actions = ["mark_available", "mark_cleaning", "close_beds", "isolate_beds"]

    def _status(self, request, queryset, status, check, done):
        _run(
            self,
            request,
            queryset,
            check,
            lambda bed: services.bed_set_status(actor=request.user, bed_id=bed.pk, status=status),
            done,
        )

    @admin.action(description="Cleaned: mark available")
    def mark_available(self, request, queryset):
        self._status(request, queryset, "available", can_act_in_hospital, "Marked available")

    @admin.action(description="Send to cleaning")
    def mark_cleaning(self, request, queryset):
        self._status(request, queryset, "cleaning", can_act_in_hospital, "Sent to cleaning")

    @admin.action(description="Close (capacity)")
    def close_beds(self, request, queryset):
        self._status(request, queryset, "closed", can_edit_capacity, "Closed")

    @admin.action(description="Isolate (infection control)")
    def isolate_beds(self, request, queryset):
        self._status(request, queryset, "isolated", can_edit_capacity, "Isolated")

    def save_model(self, request, obj, form, change):
        from .services.events import bed_changed

        obj.hospital_id = obj.ward.hospital_id
        super().save_model(request, obj, form, change)
        bed_changed(obj)  # the board's figures follow after commit


@admin.register(Admission)
class AdmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "patient", "bed", "hospital", "priority", "status", "created_at", "hold_expires_at"]
    list_filter = ["status", "priority", "hospital__region", "hospital"]
    list_select_related = ["patient", "bed", "hospital"]
    search_fields = ["patient__mrn", "bed__label"]
    date_hierarchy = "created_at"
    # Clinical text stays out of the admin; bookings are made through the services.
    exclude = ["reason"]
    readonly_fields = [f.name for f in Admission._meta.fields if f.name != "reason"]
    actions = ["discharge", "release_holds"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Discharge (bed goes to cleaning)")
    def discharge(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            can_act_in_hospital,
            lambda a: services.admission_discharge(actor=request.user, admission_id=a.pk),
            "Discharged",
        )

    @admin.action(description="Release holds")
    def release_holds(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            can_act_in_hospital,
            lambda a: services.admission_cancel_hold(actor=request.user, admission_id=a.pk),
            "Released",
        )


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["hospital", "kind", "free", "occupied", "total", "updated_at"]
    list_filter = ["kind", "hospital__region"]
    list_select_related = ["hospital"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EmergencyAlert)
class EmergencyAlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "message", "scope", "region", "hospital", "automatic", "resolved_at"]
    list_filter = ["automatic", "scope"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "created_by", "automatic"]
