from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from .views import record_denied


def exception_handler(exc, context):
    """DRF's handler, plus an audit row for every refused API request."""
    if isinstance(exc, exceptions.PermissionDenied | exceptions.NotAuthenticated):
        request = context.get("request")
        if request is not None:
            record_denied(request._request)
    return drf_exception_handler(exc, context)
