from django.urls import reverse

from .permissions import can_manage_security, mfa_satisfied
from .selectors import unread_notification_count


def navigation(request) -> dict:
    """Menu entries for the signed-in user, by role. Empty until MFA is satisfied."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not mfa_satisfied(user):
        return {"nav_items": []}
    items = [
        {"label": "Dashboard", "url": reverse("accounts:dashboard")},
        {"label": "Profile", "url": reverse("accounts:profile")},
        {"label": "Security", "url": reverse("accounts:security")},
        {"label": "Sessions", "url": reverse("accounts:sessions")},
        # One COUNT query per page.
        {
            "label": f"Notifications ({unread_notification_count(user=user)} unread)",
            "url": reverse("accounts:notifications"),
        },
    ]
    if user.has_role("lab_technician"):
        items.insert(1, {"label": "Lab", "url": reverse("records:lab")})
    if user.has_role("pharmacist"):
        items.insert(1, {"label": "Pharmacy", "url": reverse("records:pharmacy")})
    if user.has_role("patient"):
        items.insert(1, {"label": "My record", "url": reverse("records:my_record")})
    if user.is_staff_member:
        items.insert(1, {"label": "Patients", "url": reverse("records:search")})
        items.insert(1, {"label": "Beds", "url": reverse("beds:board")})
        items.insert(2, {"label": "Occupancy", "url": reverse("beds:dashboard")})
    if can_manage_security(user):
        items.append({"label": "Account security", "url": reverse("accounts:it_security_users")})
    if user.is_superuser or user.has_perm("audit.view_auditevent"):
        items.append({"label": "Audit", "url": reverse("audit:report")})
    if user.is_staff:
        items.append({"label": "Admin", "url": reverse("admin:index")})
    if user.is_staff_member:
        items.append({"label": "API", "url": reverse("api-docs")})
    return {"nav_items": items}
