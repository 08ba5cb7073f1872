"""What each role sees first. Later apps fill the placeholders with live figures."""

from .models import User
from .roles import Role

# role -> list of (title, text) cards; placeholders until the app behind them lands.
_CARDS: dict[Role, list[tuple[str, str]]] = {
    Role.PATIENT: [
        ("My records", "Your records, documents and appointments will appear here."),
        ("Who accessed my record", "Every access to your record will be listed here."),
    ],
    Role.DOCTOR: [
        ("My patients", "Patients under your care will be listed here."),
        ("Bed availability", "Free beds by hospital and kind will appear here."),
    ],
    Role.NURSE: [
        ("Ward", "Beds and admissions of your ward will appear here."),
        ("Bed availability", "Free beds by hospital and kind will appear here."),
    ],
    Role.PHARMACIST: [("Pharmacy queue", "Prescriptions to dispense will appear here.")],
    Role.LAB_TECHNICIAN: [("Lab queue", "Lab orders to fill will appear here.")],
    Role.HOSPITAL_STAFF: [("Bed board", "Beds of your hospital will appear here.")],
    Role.HOSPITAL_ADMIN: [
        ("Capacity", "Wards, beds and staff of your hospital will appear here."),
        ("Occupancy", "Occupancy figures will appear here."),
    ],
    Role.EMERGENCY_COORDINATOR: [
        ("Regional availability", "Free beds across hospitals will appear here."),
        ("Alerts", "Emergency alerts will appear here."),
    ],
    Role.PRIVACY_OFFICER: [
        ("Break-glass review", "Emergency accesses to review will appear here."),
        ("Audit reports", "Access reports will appear here."),
    ],
    Role.IT_SECURITY: [("Account security", "Lock-outs and MFA state of every account.")],
    Role.AUDITOR: [("Audit reports", "Access reports and the audit chain state will appear here.")],
    Role.SYSTEM_ADMIN: [("Administration", "Users, hospitals and settings.")],
}


def dashboard_for(user: User) -> dict:
    roles = user.roles
    cards = []
    for role in roles:
        for title, text in _CARDS.get(role, []):
            cards.append({"role": role.label, "title": title, "text": text})
    return {"roles": roles, "cards": cards}
