"""Pure-Python client library for Wave's public GraphQL API.

Only the standard library and ``requests`` are used (no Odoo import), so the
package can be loaded and tested without an Odoo server.
"""

from .exceptions import (
    WaveAuthenticationError,
    WaveConfigurationError,
    WaveError,
    WaveGrantRevokedError,
    WaveNotFoundError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveScopeError,
    WaveServerError,
    WaveTransportError,
    WaveValidationError,
)
from .graphql import is_mutation, operation_info
from .oauth import (
    AUTHORIZE_URL,
    FEATURE_SCOPES,
    TOKEN_URL,
    TokenSet,
    build_authorize_url,
    exchange_code,
    refresh_token,
    scopes_for_features,
)
from .rate_limit import BucketState, TokenBucket, penalize_state, take_token
from .redact import redact
from .tokens import OAuthTokenProvider, StaticTokenProvider
from .transport import DEFAULT_ENDPOINT, GraphQLResult, WaveClient
from .urls import check_url

__all__ = [
    "AUTHORIZE_URL",
    "DEFAULT_ENDPOINT",
    "FEATURE_SCOPES",
    "TOKEN_URL",
    "BucketState",
    "GraphQLResult",
    "OAuthTokenProvider",
    "StaticTokenProvider",
    "TokenBucket",
    "TokenSet",
    "WaveAuthenticationError",
    "WaveClient",
    "WaveConfigurationError",
    "WaveError",
    "WaveGrantRevokedError",
    "WaveNotFoundError",
    "WaveOutcomeUnknownError",
    "WaveRateLimitedError",
    "WaveScopeError",
    "WaveServerError",
    "WaveTransportError",
    "WaveValidationError",
    "build_authorize_url",
    "check_url",
    "exchange_code",
    "is_mutation",
    "operation_info",
    "penalize_state",
    "redact",
    "refresh_token",
    "scopes_for_features",
    "take_token",
]
