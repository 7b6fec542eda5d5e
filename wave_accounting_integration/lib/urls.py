"""Endpoint rules shared by the Odoo models and the client.

The rule: ``https://`` to a proper host name (or a canonical IP address), or
``http://`` ONLY to a literal loopback address (``127.x.y.z`` in canonical
dotted form, ``[::1]`` or the name ``localhost``) when the test-server switch
(``allow_insecure_loopback``) is on.

The URL is read the way ``requests`` will read it when it connects: the text
must match a strict grammar (no user name or password, no backslash, no
whitespace or control characters, no fragment, a decimal port 1-65535), and
urllib3's ``parse_url`` (what ``requests`` uses), ``requests``' own URL
preparation and the standard library's ``urlsplit`` must all find the same
host and port. Any disagreement between parsers refuses the URL, so a check
can never approve a host other than the one that will be connected to.

``check_endpoint`` (message or None) is used by the Odoo models for field
constraints; ``check_url`` (raises, returns the URL to use) is used by the
client and OAuth helpers before any request is made.
"""

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .exceptions import WaveConfigurationError

LOOPBACK_NAME = "localhost"

#: Printable ASCII except space and backslash: everything else is refused.
_ALLOWED_CHARS = re.compile(r"[\x21-\x5b\x5d-\x7e]*\Z")
_SCHEME_AUTHORITY = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)")
_AUTHORITY = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[1-9][0-9]{0,4}))?\Z"
)
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
#: A last label that browsers and ``inet_aton`` read as (part of) an IPv4 address.
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)\Z")


class Endpoint:
    """A URL that passed the rule: ``url`` is the text to hand to ``requests``."""

    def __init__(self, url, scheme, host, port):
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port


class _Refused(ValueError):
    """Internal: the URL breaks the rule; the argument is the plain-words reason."""


def is_loopback_host(host):
    """Return True when ``host`` is a literal loopback address or exactly ``localhost``.

    Accepted: ``localhost``, ``127.x.y.z`` in canonical dotted decimal form and
    ``::1`` (with or without brackets). Refused: names that merely resolve to
    loopback (``localhost.example``, ``127.0.0.1.nip.io``), trailing dots,
    short, octal, hexadecimal or decimal forms (``127.1``, ``0177.0.0.1``,
    ``0x7f.0.0.1``, ``2130706433``), IPv4-mapped IPv6 and zone ids.
    """
    if not host or not isinstance(host, str):
        return False
    host = host.lower()
    if host == LOOPBACK_NAME:
        return True
    if host.startswith("[") and host.endswith("]"):
        return host == "[::1]"
    if host == "::1":
        return True
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return str(address) == host and address.is_loopback


def check_endpoint(url, allow_insecure_loopback=False, what="Wave endpoint"):
    """Return an error message for a URL we refuse to talk to, or None when it is fine."""
    try:
        _parse(url, allow_insecure_loopback, what)
    except _Refused as refused:
        return str(refused)
    return None


def check_url(url, allow_insecure_loopback=False, what="Wave endpoint"):
    """Return the URL to hand to ``requests``, else raise :class:`WaveConfigurationError`.

    Only ``https://`` is accepted; ``http://`` only when ``allow_insecure_loopback``
    is true AND the host is a literal loopback address (local test servers).
    The returned URL is the one ``requests`` prepares (scheme and host in lower case).
    """
    try:
        return _parse(url, allow_insecure_loopback, what).url
    except _Refused as refused:
        raise WaveConfigurationError(
            str(refused), code="HTTPS_REQUIRED", details={"url": _shown(url)}
        ) from None


# -- rule --------------------------------------------------------------------------------
def _parse(url, allow_insecure_loopback, what):
    """Apply the rule; return an :class:`Endpoint` or raise :class:`_Refused`."""
    if not url or not isinstance(url, str):
        raise _Refused(f"The {what} URL is empty.")
    shown = _shown(url)
    if not _ALLOWED_CHARS.match(url):
        raise _Refused(
            f"The {what} URL {shown} contains characters that are not allowed: spaces, "
            "control characters, backslashes and non-ASCII letters are refused."
        )
    if "#" in url:
        raise _Refused(f"The {what} URL {shown} must not contain a '#' fragment.")
    head = _SCHEME_AUTHORITY.match(url)
    if not head:
        raise _Refused(
            f"The {what} URL {shown} is not a valid URL: it must start with https:// "
            "and a server name."
        )
    scheme = head["scheme"].lower()
    if scheme not in ("http", "https"):
        raise _Refused(f"{shown} is not an HTTPS URL: the {what} must use HTTPS.")
    authority = head["authority"]
    if "@" in authority:
        raise _Refused(
            f"The {what} URL {shown} contains a user name or password before '@': "
            "put credentials in the connection settings, never in the URL."
        )
    parts = _AUTHORITY.match(authority)
    if not parts:
        raise _Refused(
            f"The {what} URL {shown} has no valid server name, or a port that is not "
            "a number from 1 to 65535."
        )
    host = parts["host"].lower()
    port = int(parts["port"]) if parts["port"] else None
    if port is not None and port > 65535:
        raise _Refused(f"The {what} URL {shown} has a port outside 1-65535.")
    _check_host(host, shown, what)
    endpoint = _as_requests_sees_it(url, scheme, host, port, shown, what)
    _check_scheme(endpoint, allow_insecure_loopback, shown, what)
    return endpoint


def _check_host(host, shown, what):
    """Refuse host names that are not plain DNS names or canonical IP literals."""
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _Refused(f"The {what} URL {shown} has an invalid IPv6 address.") from None
        if address.ipv4_mapped is not None or f"[{address.compressed}]" != host:
            raise _Refused(
                f"The {what} URL {shown} must write its IPv6 address in the short standard "
                "form, and IPv4 addresses written as IPv6 are refused."
            )
        return
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            canonical = str(ipaddress.IPv4Address(host)) == host
        except ValueError:
            canonical = False
        if not canonical:
            raise _Refused(
                f"The {what} URL {shown} has an IP address that is not written as four "
                "decimal numbers (like 127.0.0.1); other forms are refused."
            )
        return
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _Refused(
            f"The {what} URL {shown} has an invalid server name (empty parts, a trailing "
            "dot or characters other than letters, digits and '-')."
        )


def _as_requests_sees_it(url, scheme, host, port, shown, what):
    """Return the endpoint as ``requests`` will connect to it; all parsers must agree."""
    try:
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)
        seen = parse_url(prepared.url)
        raw = parse_url(url)
    except (requests.exceptions.RequestException, LocationParseError, ValueError):
        raise _Refused(f"The {what} URL {shown} is not a valid URL.") from None
    split = urlsplit(prepared.url)
    try:
        split_port = split.port
    except ValueError:
        split_port = -1
    split_host = _bracket(split.hostname)
    views = {
        (raw.scheme, raw.auth, raw.host, raw.port, raw.fragment),
        (seen.scheme, seen.auth, seen.host, seen.port, seen.fragment),
        (split.scheme, split.username, split_host, split_port, split.fragment or None),
    }
    if views != {(scheme, None, host, port, None)}:
        raise _Refused(
            f"The {what} URL {shown} is ambiguous: it could be read as pointing to "
            "different servers, so it is refused."
        )
    return Endpoint(prepared.url, scheme, host, port)


def _check_scheme(endpoint, allow_insecure_loopback, shown, what):
    """https to any checked host; http only to literal loopback with the switch on."""
    if endpoint.scheme == "https":
        return
    if not is_loopback_host(endpoint.host):
        raise _Refused(
            f"{shown} is not an HTTPS URL: the {what} must use HTTPS (plain HTTP is only "
            "allowed to a local test server at 127.0.0.1, [::1] or localhost)."
        )
    if not allow_insecure_loopback:
        raise _Refused(
            f"The {what} URL {shown} uses plain HTTP: enable 'Allow HTTP to a local test server' "
            "to talk to a local Wave sandbox."
        )


def _bracket(hostname):
    """``urlsplit`` strips IPv6 brackets; put them back to compare with urllib3."""
    if hostname and ":" in hostname:
        return f"[{hostname}]"
    return hostname


def _shown(url):
    """The URL as quoted in messages (odd characters made visible), shortened."""
    text = str(url)
    if not _ALLOWED_CHARS.match(text):
        text = ascii(text)
    return text if len(text) <= 200 else text[:197] + "..."


#: Where an invoice opens in Wave's web app. ASSUMPTION (not verified against Wave's
#: documentation): the app's invoice page is ``/<business uuid>/invoices/<invoice key>/view``
#: on next.waveapps.com, the uuid and key being the raw parts of the base64 global ids
#: (``Business:<uuid>``, ``Business:<uuid>;Invoice:<key>`` or ``Invoice:<key>``).
#: Replaced by the ``wave_accounting_integration.invoice_url_template`` system parameter.
WAVE_INVOICE_URL_TEMPLATE = "https://next.waveapps.com/{business}/invoices/{invoice}/view"


def decode_global_id(global_id):
    """``{type: raw id}`` of a Wave global id (base64 of ``Type:raw[;Type:raw]``), or {}."""
    try:
        text = base64.b64decode(global_id or "", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return {}
    parts = {}
    for part in text.split(";"):
        type_name, sep, raw = part.partition(":")
        if not sep or not type_name or not raw:
            return {}
        parts[type_name] = raw
    return parts


def wave_invoice_url(template, business_global_id, invoice_global_id):
    """The invoice's page in Wave's web app per ``template``, or None when unknown."""
    invoice = decode_global_id(invoice_global_id)
    business = decode_global_id(business_global_id)
    if not invoice.get("Invoice"):
        return None
    business_raw = invoice.get("Business") or business.get("Business")
    if not business_raw:
        return None
    try:
        return template.format(
            business=business_raw, invoice=invoice["Invoice"], wave_id=invoice_global_id
        )
    except (KeyError, IndexError, ValueError):
        return None


#: Where an estimate opens in Wave's web app. ASSUMPTION (as for invoices, unverified):
#: ``/<business uuid>/estimates/<estimate key>/view``. Replaced by the
#: ``wave_accounting_integration.estimate_url_template`` system parameter.
WAVE_ESTIMATE_URL_TEMPLATE = "https://next.waveapps.com/{business}/estimates/{estimate}/view"


def wave_estimate_url(template, business_global_id, estimate_global_id):
    """The estimate's page in Wave's web app per ``template``, or None when unknown."""
    parts = decode_global_id(estimate_global_id)
    business = decode_global_id(business_global_id)
    key = parts.get("AREstimate") or parts.get("Estimate")
    business_raw = parts.get("Business") or business.get("Business")
    if not key or not business_raw:
        return None
    try:
        return template.format(business=business_raw, estimate=key, wave_id=estimate_global_id)
    except (KeyError, IndexError, ValueError):
        return None
