from rest_framework.permissions import BasePermission

from ..permissions import mfa_satisfied


class MFAVerified(BasePermission):
    """The session passed MFA, or the user is a patient who has not enrolled a device."""

    message = "Complete multi-factor authentication before using the API."

    def has_permission(self, request, view) -> bool:
        return mfa_satisfied(request.user)
