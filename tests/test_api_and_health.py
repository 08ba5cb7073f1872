import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import Role


@pytest.mark.django_db
def test_me_needs_sign_in_and_mfa(client, doctor, password):
    assert client.get(reverse("api:me")).status_code == 403
    client.post(reverse("accounts:login"), {"username": doctor.username, "password": password})
    r = client.get(reverse("api:me"))
    assert r.status_code == 403
    assert "multi-factor" in r.json()["detail"]


@pytest.mark.django_db
def test_me_returns_the_profile(doctor, mfa_login):
    c = mfa_login(doctor, Client())
    r = c.get(reverse("api:me"))
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "dr.house"
    assert body["roles"] == ["doctor"]
    assert body["mfa_verified"] is True
    assert body["hospital"]["code"] == doctor.hospital.code


@pytest.mark.django_db
def test_me_patch_validates(doctor, mfa_login):
    c = mfa_login(doctor, Client())
    r = c.patch(reverse("api:me"), {"first_name": "x" * 151}, content_type="application/json")
    assert r.status_code == 400 and "first_name" in r.json()
    r = c.patch(reverse("api:me"), {"username": "someone.else"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["username"] == "dr.house"


@pytest.mark.django_db
def test_patient_without_mfa_may_use_the_api(patient, password):
    c = Client()
    c.post(reverse("accounts:login"), {"username": patient.username, "password": password})
    assert c.get(reverse("api:me")).status_code == 200


@pytest.mark.django_db
def test_schema_and_docs_served_locally_after_mfa(client, doctor, mfa_login):
    assert client.get(reverse("api-schema")).status_code == 403
    mfa_login(doctor)
    r = client.get(reverse("api-schema"))
    assert r.status_code == 200 and b"/api/v1/me/" in r.content
    r = client.get(reverse("api-docs"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "<script>" not in html
    assert client.get(reverse("api-docs") + "?script").status_code == 200


@pytest.mark.django_db
def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_readyz_reports_a_failing_dependency(client, monkeypatch):
    from hospital import views

    def broken():
        raise OSError("down")

    monkeypatch.setattr(views, "_check_cache", broken)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["cache"] == "fail"


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_data(
    client, doctor, mfa_login, make_user, django_assert_max_num_queries
):
    mfa_login(doctor)
    client.get(reverse("accounts:dashboard"))

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("accounts:dashboard")).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(30):
        make_user(Role.NURSE, username=f"nurse{i}")
    assert count() == before
    with django_assert_max_num_queries(8):
        client.get(reverse("accounts:dashboard"))


@pytest.mark.django_db
def test_api_docs_allow_only_swagger_uis_own_style_element(client, doctor, mfa_login):
    mfa_login(doctor)
    csp = client.get(reverse("api-docs"))["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "style-src 'self' 'sha256-" in csp
    assert "sha256-" not in client.get(reverse("accounts:dashboard"))["Content-Security-Policy"]
