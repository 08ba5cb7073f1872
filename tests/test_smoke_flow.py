from django.urls import reverse

from accounts.models import TOTPDevice
from conftest import totp_code


def test_doctor_is_sent_to_enrolment_then_reaches_dashboard(client, doctor, password):
    r = client.post(reverse("accounts:login"), {"username": "DR.HOUSE", "password": password})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("accounts:mfa_setup"))
    r = client.get(r["Location"])
    assert r.status_code == 200
    assert b"data:image/svg+xml;base64," in r.content
    device = TOTPDevice.objects.get(user=doctor, confirmed=False)
    assert device.base32_secret.encode() in r.content
    r = client.post(reverse("accounts:mfa_setup"), {"otp_token": totp_code(device)})
    assert r.status_code == 200
    assert r.content.count(b"<li><code>") == 10
    r = client.get(reverse("accounts:dashboard"))
    assert r.status_code == 200
