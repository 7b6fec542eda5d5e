"""Endpoint rules shared by the Odoo models and the client: HTTPS, or HTTP to loopback.

``check_endpoint`` (message or None) is used by the Odoo models for field
constraints; ``check_url`` (raises) is used by the client and OAuth helpers
before any request is made.
"""

import ipaddress
from urllib.parse import urlsplit

from .exceptions import WaveConfigurationError

LOOPBACK_NAMES = {"localhost"}


def is_loopback_host(host):
    """Return True when ``host`` is a loopback name or address (127.0.0.0/8, ::1)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url, allow_insecure_loopback=False, what="Wave endpoint"):
    """Return an error message for a URL we refuse to talk to, or None when it is fine."""
    if not url:
        return f"The {what} URL is empty."
    parts = urlsplit(url)
    if not parts.hostname:
        return f"The {what} URL {url!r} is not a valid URL."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_insecure_loopback and is_loopback_host(parts.hostname):
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return (
            f"{url} uses plain HTTP: enable 'Allow HTTP to a local test server' "
            "to talk to a local Wave sandbox."
        )
    return f"{url} is not an HTTPS URL: the {what} must use HTTPS."


def check_url(url, allow_insecure_loopback=False, what="Wave endpoint"):
    """Return ``url`` when we may talk to it, else raise :class:`WaveConfigurationError`.

    Only ``https://`` is accepted; ``http://`` only when ``allow_insecure_loopback``
    is true AND the host is a loopback address (local test servers).
    """
    error = check_endpoint(url, allow_insecure_loopback, what)
    if error:
        raise WaveConfigurationError(error, code="HTTPS_REQUIRED", details={"url": url})
    return url
