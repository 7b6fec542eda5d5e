"""Redaction of secrets before anything is logged or stored as evidence."""

import re

REDACTED = "***"

#: Keys whose value is always a secret (compared case-insensitively, ``-`` = ``_``).
SECRET_KEYS = frozenset(
    {
        "code",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "password",
        "passwd",
        "client_secret",
        "refresh_token",
        "access_token",
        "id_token",
        "token",
        "api_key",
        "apikey",
        "x_sandbox_admin_token",
    }
)

#: Substrings that make a key secret (``webhook_secret``, ``wave_access_token``...).
SECRET_KEY_PARTS = ("token", "secret", "password", "authorization", "api_key", "apikey")

_BEARER_RE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def is_secret_key(key):
    """Return True when the value stored under ``key`` must be hidden."""
    if not isinstance(key, str):
        return False
    norm = key.strip().lower().replace("-", "_")
    if norm in SECRET_KEYS:
        return True
    return any(part in norm for part in SECRET_KEY_PARTS)


def redact(obj):
    """Return a deep copy of ``obj`` with secret values replaced by ``***``.

    Dicts are walked recursively (lists and tuples too); a value is hidden when
    its key looks like a secret (see :func:`is_secret_key`). Strings containing
    ``Bearer <token>`` are masked as well. The input is never modified.
    """
    if isinstance(obj, dict):
        return {
            key: (REDACTED if is_secret_key(key) and value is not None else redact(value))
            for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [redact(item) for item in obj]
    if isinstance(obj, tuple):
        return tuple(redact(item) for item in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def redact_text(text, secrets=()):
    """Mask ``Bearer`` tokens and any of the literal ``secrets`` in ``text``."""
    if not isinstance(text, str):
        return text
    text = _BEARER_RE.sub(r"\1" + REDACTED, text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text
