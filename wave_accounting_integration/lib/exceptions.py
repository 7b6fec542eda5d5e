"""Exception hierarchy of the Wave client library.

Every error raised by the library derives from :class:`WaveError`, whose
``message`` is meant to be shown to a user (it says what to do), while
``code`` carries the Wave / OAuth error code and ``details`` carries
machine-readable evidence (never secrets: callers pass redacted data).
"""


class WaveError(Exception):
    """Base class of all Wave client errors."""

    default_message = "The Wave API request failed."

    def __init__(self, message=None, *, code=None, details=None):
        """Store a user-actionable ``message``, an error ``code`` and ``details``."""
        self.message = message or self.default_message
        self.code = code
        self.details = dict(details or {})
        super().__init__(self.message)

    def __str__(self):
        """Return the message, prefixed with the code when there is one."""
        if self.code:
            return f"[{self.code}] {self.message}"
        return self.message


class WaveConfigurationError(WaveError):
    """The connection is misconfigured (e.g. a non-HTTPS endpoint)."""

    default_message = "The Wave connection is misconfigured; check the endpoint settings."


class WaveAuthenticationError(WaveError):
    """Wave rejected the credentials (UNAUTHENTICATED, HTTP 401, invalid_client)."""

    default_message = (
        "Wave rejected the access token. Reconnect the Wave account from the settings."
    )


class WaveGrantRevokedError(WaveAuthenticationError):
    """The refresh token was rejected (OAuth ``invalid_grant``): reconnect is required."""

    default_message = (
        "Wave revoked the authorization (invalid_grant). The connection is now "
        "disconnected: an administrator must reconnect the Wave account."
    )


class WaveScopeError(WaveError):
    """The token lacks a scope needed for the operation (HTTP 403)."""

    default_message = (
        "The Wave authorization lacks a permission (scope) needed for this operation. "
        "Reconnect and grant the requested permissions."
    )


class WaveNotFoundError(WaveError):
    """The requested Wave object does not exist (NOT_FOUND)."""

    default_message = "The requested Wave record could not be found."


class WaveValidationError(WaveError):
    """Wave refused the request as invalid.

    Raised for GraphQL validation errors and for mutations answering
    ``didSucceed: false``; ``input_errors`` lists ``{code, message, path}``.
    """

    default_message = "Wave refused the data sent to it."

    def __init__(self, message=None, *, code=None, details=None, input_errors=None):
        """Store the validation errors in ``input_errors`` as well."""
        self.input_errors = [dict(err) for err in (input_errors or [])]
        if message is None and self.input_errors:
            message = format_input_errors(self.input_errors)
        super().__init__(message, code=code, details=details)


class WaveRateLimitedError(WaveError):
    """Wave (or the local rate limiter) asks to slow down; retry after ``retry_after`` s."""

    default_message = "Wave rate limit reached; the request will be retried later."

    def __init__(self, message=None, *, code="RATE_LIMITED", details=None, retry_after=None):
        """Store ``retry_after`` (seconds, float or None)."""
        self.retry_after = retry_after
        if message is None and retry_after is not None:
            message = f"Wave rate limit reached; retry in {retry_after:.1f} s."
        super().__init__(message, code=code, details=details)


class WaveServerError(WaveError):
    """Wave answered with a server error (HTTP 5xx or INTERNAL_SERVER_ERROR)."""

    default_message = "Wave had an internal error; try again later."


class WaveTransportError(WaveError):
    """The request could not be completed (connection failure, DNS, timeout)."""

    default_message = "Could not reach Wave; check the network connection and try again."


class WaveOutcomeUnknownError(WaveError):
    """A mutation was sent but its response was lost: it may or may not be applied.

    Never retried automatically; ``details`` carries the evidence (operation,
    redacted variables, underlying error) so that a human can check Wave.
    """

    default_message = (
        "The request was sent to Wave but no answer came back: it may or may not "
        "have been applied. Check in Wave before sending it again."
    )


def format_input_errors(input_errors):
    """Render ``[{code, message, path}]`` as one readable line."""
    parts = []
    for err in input_errors:
        path = err.get("path") or []
        where = ".".join(str(p) for p in path)
        text = err.get("message") or err.get("code") or "invalid value"
        parts.append(f"{where}: {text}" if where else text)
    return "; ".join(parts) or WaveValidationError.default_message
