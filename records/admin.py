from django.contrib import admin

from .models import AccessGrant, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    # Names and dates of birth stay out of lists and search: the record number identifies.
    list_display = ["mrn", "created_at"]
    search_fields = ["mrn"]
    fields = ["mrn", "user", "created_at"]
    readonly_fields = ["created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    list_display = ["patient", "grantee", "reason", "scope", "created_at", "expires_at", "revoked_at"]
    list_filter = ["reason", "scope"]
    list_select_related = ["patient", "grantee"]
    search_fields = ["patient__mrn", "grantee__username"]
    readonly_fields = [f.name for f in AccessGrant._meta.fields]

    def has_add_permission(self, request):
        return False
