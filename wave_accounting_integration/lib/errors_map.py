"""Mapping of Wave HTTP statuses and GraphQL error codes to exceptions."""

import datetime as dt
from email.utils import parsedate_to_datetime

from .exceptions import (
    WaveAuthenticationError,
    WaveConfigurationError,
    WaveError,
    WaveNotFoundError,
    WaveRateLimitedError,
    WaveScopeError,
    WaveServerError,
    WaveTransportError,
    WaveValidationError,
)
from .redact import redact_text

VALIDATION_CODES = frozenset(
    {
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "VARIABLE_VALUE",
        "BAD_USER_INPUT",
    }
)
AUTH_CODES = frozenset({"UNAUTHENTICATED"})
SCOPE_CODES = frozenset({"FORBIDDEN", "UNAUTHORIZED", "INSUFFICIENT_SCOPE"})
NOT_FOUND_CODES = frozenset({"NOT_FOUND"})
RATE_CODES = frozenset({"RATE_LIMITED", "TOO_MANY_REQUESTS"})
SERVER_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})

UTC = dt.timezone.utc


def error_code(error):
    """Return ``extensions.code`` of one GraphQL error (None if absent)."""
    extensions = error.get("extensions") or {}
    return extensions.get("code") or error.get("code")


def error_codes(errors):
    """Return the list of codes of ``errors`` (in order, codes may repeat)."""
    return [error_code(err) for err in errors or []]


def parse_retry_after(value, now=None):
    """Parse a ``Retry-After`` header (seconds or HTTP date) into seconds, or None."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:  # pylint: disable=except-pass
        pass  # not a number of seconds: an HTTP date, parsed below
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def describe_error(error):
    """Return ``message (at path a.b.c; line L:C)`` for one GraphQL error."""
    message = error.get("message") or "Unknown Wave error"
    extra = []
    if error.get("path"):
        extra.append("at path " + ".".join(str(p) for p in error["path"]))
    locations = error.get("locations") or []
    if locations:
        loc = locations[0]
        extra.append(f"line {loc.get('line')}:{loc.get('column')}")
    return f"{message} ({'; '.join(extra)})" if extra else message


def _details(error, extra):
    """Build the ``details`` dict of an exception from one GraphQL error."""
    details = dict(extra or {})
    details.update(
        {
            "path": error.get("path"),
            "locations": error.get("locations"),
            "error_id": (error.get("extensions") or {}).get("id"),
        }
    )
    return details


def exception_for_error(error, extra=None, retry_after=None):
    """Return the :class:`WaveError` subclass instance matching one GraphQL error."""
    code = error_code(error)
    message = describe_error(error)
    details = _details(error, extra)
    if code in VALIDATION_CODES:
        input_errors = [{"code": code, "message": error.get("message"), "path": error.get("path")}]
        return WaveValidationError(message, code=code, details=details, input_errors=input_errors)
    classes = (
        (AUTH_CODES, WaveAuthenticationError),
        (SCOPE_CODES, WaveScopeError),
        (NOT_FOUND_CODES, WaveNotFoundError),
        (SERVER_CODES, WaveServerError),
    )
    for codes, cls in classes:
        if code in codes:
            return cls(message, code=code, details=details)
    if code in RATE_CODES:
        return WaveRateLimitedError(message, code=code, details=details, retry_after=retry_after)
    return WaveError(message, code=code, details=details)


def exception_for_errors(errors, extra=None, retry_after=None):
    """Return the exception for a list of GraphQL errors (first error wins)."""
    exc = exception_for_error(errors[0], extra, retry_after)
    if isinstance(exc, WaveValidationError) and len(errors) > 1:
        more = [exception_for_error(err) for err in errors[1:]]
        for other in more:
            if isinstance(other, WaveValidationError):
                exc.input_errors.extend(other.input_errors)
        exc.message = "; ".join(describe_error(err) for err in errors)
        exc.args = (exc.message,)
    return exc


def exception_for_status(status, body_text="", extra=None, retry_after=None, errors=None):
    """Return the exception for a non-2xx HTTP status (``errors`` add Wave's message)."""
    snippet = (body_text or "")[:200]
    details = dict(extra or {}, http_status=status, body=snippet)
    if status == 401:
        return WaveAuthenticationError(code="HTTP_401", details=details)
    if status == 403:
        message = None
        if errors:
            message = describe_error(errors[0]) + " " + WaveScopeError.default_message
        return WaveScopeError(message, code="HTTP_403", details=details)
    if status == 404:
        return WaveNotFoundError(
            "Wave endpoint not found (HTTP 404); check the endpoint URL.",
            code="HTTP_404",
            details=details,
        )
    if status == 429:
        return WaveRateLimitedError(code="RATE_LIMITED", details=details, retry_after=retry_after)
    if status >= 500:
        return WaveServerError(
            f"Wave answered HTTP {status}; try again later.", code=f"HTTP_{status}", details=details
        )
    return WaveError(f"Wave answered HTTP {status}.", code=f"HTTP_{status}", details=details)


def is_redirect(status):
    """Return True for an HTTP status that asks the client to go elsewhere (3xx)."""
    return 300 <= status < 400


def redirect_error(status, location, extra=None, what="Wave", secrets=()):
    """Return the error for a redirect answer: never followed with credentials.

    The ``Location`` is shown (redacted, shortened) so that an administrator
    can fix the endpoint URL if Wave really moved.
    """
    target = redact_text(str(location or "nowhere"), secrets)
    if len(target) > 200:
        target = target[:197] + "..."
    return WaveConfigurationError(
        f"{what} answered with a redirect (HTTP {status}) to {target}; it was not followed, "
        "because the request carries credentials. Check the endpoint URL in the Wave "
        "connection settings.",
        code="REDIRECT_REFUSED",
        details=dict(extra or {}, http_status=status, location=target),
    )


def token_refused_after_refresh(extra=None):
    """Return the retryable error for a fresh token refused right after a refresh.

    Wave had accepted the previous token (it expired) and issued this one, so the
    grant is valid: the job runs again later instead of disconnecting. A refusal
    that repeats is final (:class:`WaveAuthenticationError`, see the transport).
    """
    return WaveTransportError(
        "Wave refused the access token it had just issued; the request will be tried again later.",
        code="TOKEN_REFUSED_AFTER_REFRESH",
        details=dict(extra or {}),
    )
