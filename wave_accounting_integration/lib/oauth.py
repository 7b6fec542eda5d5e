"""OAuth 2.0 (authorization-code + rotating refresh token) helpers for Wave.

Wave's endpoints: ``https://api.waveapps.com/oauth2/authorize/`` and
``https://api.waveapps.com/oauth2/token/`` (form-encoded POST). Refresh
tokens rotate: every refresh returns a new refresh token and the previous
one stops working, so callers must store the new pair atomically.

Caveat: if a refresh request times out after being sent, Wave may already
have rotated the refresh token; the old one may then be rejected with
``invalid_grant`` (the user has to reconnect). Such failures are raised as
:class:`WaveTransportError` with ``details["outcome_unknown"] = True``.
"""

import dataclasses
import datetime as dt
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from .errors_map import is_redirect, parse_retry_after, redirect_error
from .exceptions import (
    WaveAuthenticationError,
    WaveError,
    WaveGrantRevokedError,
    WaveRateLimitedError,
    WaveScopeError,
    WaveServerError,
    WaveTransportError,
)
from .redact import redact_text
from .transport import DEFAULT_USER_AGENT, decode_json, is_pre_send_failure
from .urls import check_url

UTC = dt.timezone.utc

AUTHORIZE_URL = "https://api.waveapps.com/oauth2/authorize/"
TOKEN_URL = "https://api.waveapps.com/oauth2/token/"
OFFLINE_ACCESS = "offline_access"

BASE_SCOPES = ("business:read", "user:read")
_INBOUND_INVOICE_SCOPES = (
    "invoice:read",
    "customer:read",
    "product:read",
    "sales_tax:read",
    "account:read",
)

#: Least-privilege scopes per feature (``business:read user:read`` always added).
FEATURE_SCOPES = {
    "inbound_invoices": _INBOUND_INVOICE_SCOPES,
    "inbound_payments": ("invoice:read", "account:read"),
    "inbound_vendors": ("vendor:read",),
    # estimate:read is not on Wave's scopes page, only in its webhooks guide
    "inbound_estimates": ("estimate:read",),
    "outbound_invoices": (
        *_INBOUND_INVOICE_SCOPES,
        "invoice:write",
        "customer:write",
        "product:write",
        "sales_tax:write",
    ),
    "outbound_estimates": (
        "estimate:read",
        "estimate:write",
        "customer:write",
        "product:write",
        "sales_tax:write",
    ),
    "outbound_payments": ("invoice:read", "invoice:write", "account:read"),
    "send_invoices": ("invoice:read", "invoice:send"),
    "outbound_bills": ("transaction:write", "account:read", "vendor:read", "sales_tax:read"),
    "outbound_accounts": ("account:read", "account:write"),
    "webhooks": ("invoice:read",),
}

_TOKEN_FIELDS = ("access_token", "refresh_token", "expires_in", "scope", "token_type")


@dataclasses.dataclass
class TokenSet:
    """Tokens returned by Wave's token endpoint.

    ``extra`` keeps every other field of the answer (e.g. ``businessId``,
    ``userId``). Tokens are hidden from ``repr`` so they never reach logs.
    """

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(repr=False, default=None)
    expires_at: dt.datetime | None = None
    scope: str = ""
    token_type: str = "Bearer"
    extra: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_response(cls, payload, now=None, previous_refresh_token=None):
        """Build a TokenSet from the token endpoint's JSON ``payload``.

        When the answer carries no refresh token (non-rotating server), the
        ``previous_refresh_token`` is kept.
        """
        now = now or dt.datetime.now(UTC)
        expires_in = payload.get("expires_in")
        expires_at = None
        if expires_in not in (None, ""):
            expires_at = now + dt.timedelta(seconds=float(expires_in))
        return cls(
            access_token=payload["access_token"],
            refresh_token=payload.get("refresh_token") or previous_refresh_token,
            expires_at=expires_at,
            scope=payload.get("scope") or "",
            token_type=payload.get("token_type") or "Bearer",
            extra={k: v for k, v in payload.items() if k not in _TOKEN_FIELDS},
        )

    @property
    def scopes(self):
        """Return the granted scopes as a list."""
        return self.scope.split()

    def expires_in(self, now=None):
        """Seconds until expiry (None when unknown)."""
        if self.expires_at is None:
            return None
        return (self.expires_at - (now or dt.datetime.now(UTC))).total_seconds()

    def is_expired(self, now=None, leeway=60.0):
        """Return True when the access token expires within ``leeway`` seconds."""
        remaining = self.expires_in(now)
        return remaining is not None and remaining <= leeway


def scopes_for_features(features, *, include_offline_access=False):
    """Return the least-privilege scope list for the enabled ``features``.

    Known features: see :data:`FEATURE_SCOPES`. ``offline_access`` is not on
    Wave's official scope page (third parties say a refresh token needs it),
    so it is only added when ``include_offline_access`` is true.
    """
    scopes = list(BASE_SCOPES)
    for feature in features:
        if feature not in FEATURE_SCOPES:
            raise ValueError(f"Unknown Wave feature {feature!r}; known: {sorted(FEATURE_SCOPES)}")
        scopes.extend(FEATURE_SCOPES[feature])
    if include_offline_access:
        scopes.append(OFFLINE_ACCESS)
    return sorted(set(scopes))


def build_authorize_url(
    authorize_url,
    client_id,
    redirect_uri,
    scopes,
    state,
    *,
    extra_params=None,
    allow_insecure_loopback=False,
):
    """Return the URL to send the user's browser to.

    ``scopes`` is a list (or a space-delimited string); ``response_type=code``.
    ``extra_params`` may add e.g. ``businessId`` or ``approval_prompt``.
    """
    authorize_url = check_url(authorize_url, allow_insecure_loopback, "Wave authorize")
    if not isinstance(scopes, str):
        scopes = " ".join(scopes)
    params = {"client_id": client_id, "response_type": "code", "scope": scopes, "state": state}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    params.update(extra_params or {})
    parts = urlsplit(authorize_url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _grant(grant_type, client_id, client_secret, redirect_uri, **values):
    """The form fields of a token request of ``grant_type``."""
    data = {"grant_type": grant_type, "client_id": client_id, "client_secret": client_secret}
    data.update(values)
    if redirect_uri:
        data["redirect_uri"] = redirect_uri
    return data


def exchange_code(
    token_url,
    client_id,
    client_secret,
    code,
    redirect_uri,
    *,
    session=None,
    timeout=(5, 30),
    allow_insecure_loopback=False,
    now=None,
):
    """Exchange an authorization ``code`` for a :class:`TokenSet`."""
    data = _grant("authorization_code", client_id, client_secret, redirect_uri, code=code)
    payload = _post_token(
        token_url, data, session, timeout, allow_insecure_loopback, secrets=(client_secret, code)
    )
    return TokenSet.from_response(payload, now=now)


def refresh_token(
    token_url,
    client_id,
    client_secret,
    refresh_token,
    *,
    redirect_uri=None,
    session=None,
    timeout=(5, 30),
    allow_insecure_loopback=False,
    now=None,
):
    """Use ``refresh_token`` to get a new :class:`TokenSet` (with a rotated refresh token).

    Raises :class:`WaveGrantRevokedError` on ``invalid_grant``: the connection
    must then be marked disconnected.
    """
    data = _grant(
        "refresh_token", client_id, client_secret, redirect_uri, refresh_token=refresh_token
    )
    payload = _post_token(
        token_url,
        data,
        session,
        timeout,
        allow_insecure_loopback,
        secrets=(client_secret, refresh_token),
    )
    return TokenSet.from_response(payload, now=now, previous_refresh_token=refresh_token)


def _post_token(token_url, data, session, timeout, allow_insecure_loopback, secrets):
    """POST a token request; return the JSON answer or raise a mapped error."""
    token_url = check_url(token_url, allow_insecure_loopback, "Wave token")
    grant = data["grant_type"]
    headers = {"Accept": "application/json", "User-Agent": DEFAULT_USER_AGENT}
    try:
        # The body carries the client secret: never follow a redirect with it.
        response = (session or requests).post(
            token_url, data=data, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise _transport_error(exc, grant, secrets) from None
    if is_redirect(response.status_code):
        raise redirect_error(
            response.status_code,
            response.headers.get("Location"),
            {"grant_type": grant},
            what="Wave's token endpoint",
            secrets=secrets,
        )
    body = decode_json(response) or {}
    if response.status_code == 200 and body.get("access_token"):
        return body
    raise _token_error(response, body, grant, secrets)


def _transport_error(exc, grant, secrets):
    """Map a ``requests`` failure of a token request."""
    text = redact_text(f"{type(exc).__name__}: {exc}", secrets)
    if is_pre_send_failure(exc):
        return WaveTransportError(
            f"Could not connect to Wave's token endpoint ({text}).",
            code="CONNECT_FAILED",
            details={"grant_type": grant},
        )
    return WaveTransportError(
        f"Wave's token endpoint did not answer ({text}). If this was a refresh, the "
        "refresh token may have been rotated already; reconnect if the next refresh fails.",
        code="NO_RESPONSE",
        details={"grant_type": grant, "outcome_unknown": True},
    )


def _token_error(response, body, grant, secrets):
    """Map an OAuth error answer (RFC 6749 §5.2) to a :class:`WaveError`."""
    status = response.status_code
    error = body.get("error")
    description = redact_text(str(body.get("error_description") or ""), secrets)
    details = {
        "grant_type": grant,
        "http_status": status,
        "error": error,
        "error_description": description,
    }
    suffix = f" ({description})" if description else ""
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return WaveRateLimitedError(retry_after=retry_after, details=details)
    if status >= 500:
        return WaveServerError(
            f"Wave's token endpoint failed with HTTP {status}; try later.",
            code=f"HTTP_{status}",
            details=details,
        )
    if error == "invalid_grant":
        return WaveGrantRevokedError(_grant_message(grant) + suffix, code=error, details=details)
    if error in ("invalid_client", "unauthorized_client") or status == 401:
        return WaveAuthenticationError(
            "Wave rejected the OAuth client credentials; check the client ID and secret." + suffix,
            code=error or "HTTP_401",
            details=details,
        )
    if error == "invalid_scope":
        return WaveScopeError(
            "Wave rejected the requested scopes." + suffix, code=error, details=details
        )
    return WaveError(
        f"Wave's token endpoint refused the request (HTTP {status}, "
        f"{error or 'no error code'}){suffix}.",
        code=error or f"HTTP_{status}",
        details=details,
    )


def _grant_message(grant):
    """User-facing message for ``invalid_grant``."""
    if grant == "authorization_code":
        return (
            "The Wave authorization code is invalid, expired or already used; "
            "start the connection again."
        )
    return (
        "Wave rejected the refresh token (revoked or already used). The connection is "
        "disconnected: an administrator must reconnect the Wave account."
    )
