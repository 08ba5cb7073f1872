from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is never edited, not even by a superuser."""

    list_display = ["seq", "occurred_at", "actor_name", "action", "category", "patient_id", "object_label", "outcome"]
    list_filter = ["action", "category", "outcome"]
    search_fields = ["actor_name", "object_label", "request_id"]
    date_hierarchy = "occurred_at"
    ordering = ["-seq"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
