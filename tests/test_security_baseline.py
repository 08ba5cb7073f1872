"""Headers, CSRF, error pages: the security baseline every page shares."""

import pytest
from django.test import Client, override_settings
from django.urls import path, reverse

from hospital import urls as project_urls


def boom(request):
    raise RuntimeError("secret internal detail 0xDEADBEEF")


urlpatterns = [*project_urls.urlpatterns, path("boom/", boom)]
handler500 = project_urls.handler500
handler404 = project_urls.handler404
handler403 = project_urls.handler403
handler400 = project_urls.handler400


@pytest.mark.django_db
def test_security_headers_on_every_page(client):
    r = client.get(reverse("accounts:login"))
    csp = r["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert r["X-Frame-Options"] == "DENY"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["X-Request-ID"]


@pytest.mark.django_db
def test_no_inline_script_or_style_in_pages(client, doctor, password):
    client.post(reverse("accounts:login"), {"username": doctor.username, "password": password})
    for url in [reverse("accounts:login"), reverse("accounts:mfa_setup")]:
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html


@pytest.mark.django_db
def test_signed_in_pages_are_never_cached(client, doctor, mfa_login):
    mfa_login(doctor)
    for name in ["accounts:dashboard", "accounts:profile", "accounts:security", "accounts:sessions"]:
        r = client.get(reverse(name))
        assert r.status_code == 200
        assert "no-store" in r["Cache-Control"], name
    assert "no-store" in client.get(reverse("api:me"))["Cache-Control"]


@pytest.mark.django_db
def test_csrf_enforced_on_login():
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert r.status_code == 403
    assert b"Form expired" in r.content and b"request id" in r.content
    page = c.get(reverse("accounts:login"))
    token = page.context["csrf_token"]
    r = c.post(reverse("accounts:login"), {"username": "x", "password": "y", "csrfmiddlewaretoken": str(token)})
    assert r.status_code == 200


@pytest.mark.django_db
def test_csrf_enforced_on_the_api(doctor, mfa_login):
    signed_in = mfa_login(doctor, Client())
    c = Client(enforce_csrf_checks=True)
    c.cookies = signed_in.cookies
    c.get(reverse("accounts:dashboard"))
    r = c.patch(reverse("api:me"), {"first_name": "Greg"}, content_type="application/json")
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    token = c.cookies["csrftoken"].value
    r = c.patch(reverse("api:me"), {"first_name": "Greg"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert r.status_code == 200 and r.json()["first_name"] == "Greg"


@pytest.mark.django_db
def test_404_page_is_generic_with_request_id(client):
    r = client.get("/no/such/page/")
    assert r.status_code == 404
    assert r["X-Request-ID"].encode() in r.content
    assert b"Page not found" in r.content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_500_page_shows_request_id_and_nothing_internal():
    c = Client(raise_request_exception=False)
    r = c.get("/boom/")
    assert r.status_code == 500
    assert r["X-Request-ID"].encode() in r.content
    assert b"DEADBEEF" not in r.content and b"Traceback" not in r.content and b"RuntimeError" not in r.content


@pytest.mark.django_db
def test_400_for_a_disallowed_host(client):
    r = client.get(reverse("accounts:login"), HTTP_HOST="evil.example.com")
    assert r.status_code == 400
    assert b"Bad request" in r.content and b"evil" not in r.content


@pytest.mark.django_db
def test_open_redirect_after_login_is_refused(client, patient, password):
    r = client.post(
        reverse("accounts:login") + "?next=https://evil.example.com/",
        {"username": patient.username, "password": password, "next": "https://evil.example.com/"},
    )
    assert r.status_code == 302 and r["Location"] == reverse("accounts:dashboard")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/sessions/99999999999999999999999/revoke/",
        "/accounts/security/devices/99999999999999999999999/remove/",
        "/accounts/it-security/users/99999999999999999999999/unlock/",
        "/accounts/verify-email/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5/abc-def/",
        "/accounts/verify-email/%FF%FE/abc-def/",
    ],
)
def test_absurd_ids_are_a_clean_error_not_a_crash(doctor, mfa_login, url):
    c = mfa_login(doctor, Client(raise_request_exception=False))
    r = c.post(url)
    assert r.status_code in (400, 404, 405)
    r = c.get(url)
    assert r.status_code in (400, 404, 405)
