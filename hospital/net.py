"""Client address as the platform trusts it.

X-Forwarded-For is honoured only when TRUSTED_PROXY_COUNT reverse proxies are configured,
and then only the entry those proxies appended: a client cannot choose its own address by
sending the header.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if proxies <= 0:
        return remote
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    # Each trusted proxy appends the address it saw; the client's is the one added by
    # the outermost trusted proxy, i.e. `proxies` entries from the right.
    return _valid_ip(hops[-proxies]) or remote


def axes_client_ip(request: HttpRequest) -> str | None:
    return client_ip(request)
