"""One canonical name per account, whatever the user typed.

Lockout counts and authentication both go through canonical_login_name, so 'DrSmith',
'drsmith' and 'dr.smith@hospital.example' all count against the same account.
"""

from django.http import HttpRequest

from .models import User
from .models.users import canonical_email, canonical_username


def canonical_login_name(identifier: str | None) -> str:
    value = (identifier or "").strip()
    if "@" in value:
        email = canonical_email(value)
        username = User.objects.filter(email=email).values_list("username", flat=True).first()
        # An unknown email still gets a stable key, so guessing emails is throttled too.
        return username or email
    return canonical_username(value)


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    identifier = None
    if credentials:
        identifier = credentials.get("username")
    if identifier is None and request is not None:
        identifier = request.POST.get("username")
    return canonical_login_name(identifier)
