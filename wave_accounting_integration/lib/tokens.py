"""Ready-made token providers for :class:`WaveClient`.

A token provider has ``get_access_token() -> str`` and
``refresh_access_token() -> str``. The Odoo model implements its own (it
persists tokens in the database); these are for scripts, tests and benches.
"""

import datetime as dt
import threading

from .exceptions import WaveAuthenticationError
from .oauth import refresh_token

UTC = dt.timezone.utc


class StaticTokenProvider:
    """Provider for a Full Access Token (it cannot be refreshed)."""

    def __init__(self, access_token):
        """Keep the token."""
        self._access_token = access_token

    def get_access_token(self):
        """Return the token."""
        return self._access_token

    def refresh_access_token(self):
        """Full Access Tokens cannot be refreshed: raise an authentication error."""
        raise WaveAuthenticationError(
            "Wave rejected the Full Access Token; create a new one in Wave's developer portal.",
            code="UNAUTHENTICATED",
        )


class OAuthTokenProvider:
    """Provider refreshing a :class:`TokenSet` with the rotating refresh token.

    ``on_refresh(token_set)`` is called with every new token set so the caller
    can persist the new pair atomically. A token expiring within ``leeway``
    seconds is refreshed before use.
    """

    def __init__(
        self,
        token_url,
        client_id,
        client_secret,
        token_set,
        *,
        on_refresh=None,
        session=None,
        timeout=(5, 30),
        allow_insecure_loopback=False,
        leeway=60.0,
    ):
        """Store the OAuth client settings and the current token set."""
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_set = token_set
        self.on_refresh = on_refresh
        self.session = session
        self.timeout = timeout
        self.allow_insecure_loopback = allow_insecure_loopback
        self.leeway = leeway
        self._lock = threading.Lock()

    def get_access_token(self):
        """Return a valid access token (refreshing it first when about to expire)."""
        with self._lock:
            if self.token_set.is_expired(leeway=self.leeway) and self.token_set.refresh_token:
                self._refresh()
            return self.token_set.access_token

    def refresh_access_token(self):
        """Refresh now and return the new access token."""
        with self._lock:
            self._refresh()
            return self.token_set.access_token

    def _refresh(self):
        """Exchange the refresh token for a new token set."""
        if not self.token_set.refresh_token:
            raise WaveAuthenticationError(code="NO_REFRESH_TOKEN")
        self.token_set = refresh_token(
            self.token_url,
            self.client_id,
            self.client_secret,
            self.token_set.refresh_token,
            session=self.session,
            timeout=self.timeout,
            allow_insecure_loopback=self.allow_insecure_loopback,
        )
        if self.on_refresh is not None:
            self.on_refresh(self.token_set)
