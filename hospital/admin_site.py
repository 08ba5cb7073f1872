from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode


class HospitalAdminSite(admin.AdminSite):
    """The admin accepts only staff whose session passed MFA; login goes through the main flow."""

    site_header = "Hospital platform administration"
    site_title = "Hospital platform admin"
    index_title = "Administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return super().has_permission(request) and user.is_verified()

    def login(self, request: HttpRequest, extra_context=None):
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        return HttpResponseRedirect(reverse("accounts:login") + "?" + urlencode({REDIRECT_FIELD_NAME: target}))
