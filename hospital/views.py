"""Health probes and the generic error pages (request id only, nothing internal)."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template import loader

log = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = "readyz-probe"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it stored")


def _check_broker() -> None:
    from hospital.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database, "cache": _check_cache}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _check_broker
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:  # a probe reports every failure instead of raising
            log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            results[name] = "fail"
        else:
            results[name] = "ok"
    ok = all(v == "ok" for v in results.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:dashboard" if request.user.is_authenticated else "accounts:login")


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    # Rendered without context processors: an error page must not depend on the database.
    template = loader.get_template("error.html")
    body = template.render(
        {"status": status, "title": title, "message": message, "request_id": getattr(request, "request_id", "")}
    )
    response = HttpResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 400, "Bad request", "The request could not be understood. Go back and try again.")


def record_denied(request: HttpRequest) -> None:
    """Every refused request becomes an audit row with outcome denied (the path carries no PHI)."""
    from audit.signals import phi_accessed

    phi_accessed.send(
        sender=permission_denied,
        action="view",
        category="security",
        object_label=f"{request.method} {request.path}"[:200],
        outcome="denied",
    )


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    record_denied(request)
    return _error(request, 403, "Access denied", "You do not have permission to see this page.")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(request, 404, "Page not found", "There is no page at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request, 500, "Something went wrong", "The error was recorded. Quote the request id below to IT support."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        "Form expired",
        "This form was open too long or came from another site. Reload the page and submit it again.",
    )
