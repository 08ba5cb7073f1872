"""Request plumbing: request id, the audit context, read-your-writes on a replica, no-store caching."""

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from . import context, db_routers
from .net import client_ip

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id, echoed in X-Request-ID and shown on error pages.

    An incoming X-Request-ID is kept only behind a trusted proxy (which sets it); a client
    cannot pick the id its actions are filed under.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        if settings.TRUSTED_PROXY_COUNT > 0 and _REQUEST_ID.match(incoming):
            request_id = incoming
        else:
            request_id = uuid.uuid4().hex
        request.request_id = request_id
        ctx = context.RequestContext(
            request_id=request_id,
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            origin="request",
        )
        with context.bind(ctx):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class StickyPrimaryMiddleware:
    """With a read replica: after a request that wrote, the same browser reads the primary for a while.

    So the page a POST redirects to shows the change even while the replica lags. The flag is a
    signed cookie holding a constant and the signing time: no user, no patient, nothing else. Its
    age is checked against the signed time (REPLICA_STICKY_SECONDS), so a client cannot stretch the
    window, and a forged one is ignored. Without a replica this middleware does nothing.
    Must run inside RequestIdMiddleware (it marks the request's context).
    """

    _SALT = "hospital.middleware.StickyPrimaryMiddleware"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.REPLICA_STICKY_SECONDS
        if seconds <= 0 or not db_routers.replica_configured():
            return self.get_response(request)
        name = settings.REPLICA_STICKY_COOKIE_NAME
        use = context.current().db
        if request.get_signed_cookie(name, default=None, salt=self._SALT, max_age=seconds) is not None:
            use.sticky = True
        response = self.get_response(request)
        if use.wrote:
            response.set_signed_cookie(
                name,
                "1",
                salt=self._SALT,
                max_age=seconds,
                path="/",
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class RequestContextMiddleware:
    """Add the authenticated actor to the request context (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        base = context.current()
        names = getattr(user, "role_names", None)
        # Read with the user (accounts.backends): the roles that audit rows record, without a query.
        memo = {"role_names": names} if names is not None else {}
        ctx = context.RequestContext(
            request_id=base.request_id,
            user_id=user.pk,
            username=user.get_username(),
            ip_address=base.ip_address,
            user_agent=base.user_agent,
            origin="request",
            _memo=memo,
            db=base.db,
        )
        with context.bind(ctx):
            return self.get_response(request)


class NoStoreForAuthenticatedMiddleware:
    """Pages for a signed-in user never land in a browser or proxy cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or getattr(request, "force_no_store", False):
            add_never_cache_headers(response)
        return response
