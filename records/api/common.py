"""How the records API answers a service's refusal."""

from rest_framework import status
from rest_framework.response import Response

from ..services import PatientError


def refusal(exc: PatientError, *, state_status: int = status.HTTP_400_BAD_REQUEST) -> Response:
    """A refusal about input fields is a 400 keyed by field; any other refusal (about the record's
    state) is `state_status` with a `detail` message. The message is the service's, as on the page."""
    if exc.field_errors:
        return Response(exc.field_errors, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": str(exc)}, status=state_status)
