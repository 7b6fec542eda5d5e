"""One rule for "is this Wave record a newer version than the one Odoo holds?".

Wave's ``modifiedAt`` is finer than a second (``2025-01-01T12:00:00.123Z``); Odoo holds
change times to the second (a ``Datetime`` field, and :func:`.dates.parse_wave_datetime`).
Two Wave edits made in the same second therefore have equal held times, and the time
alone cannot tell them apart: then the content decides. Products (the last change
seen) and "Keep Odoo's" on invoices (the version declined) both use this rule.
"""

import hashlib
import json

from .dates import parse_wave_datetime


def held_time(modified_at):
    """Wave's ``modifiedAt`` (string or datetime) as Odoo holds it: naive UTC, to the
    second; False when there is none."""
    if not modified_at:
        return False
    if isinstance(modified_at, str):
        return parse_wave_datetime(modified_at)
    return modified_at.replace(microsecond=0, tzinfo=None)


def is_newer_wave_version(modified_at, held, content_differs):
    """True when the Wave version changed at ``modified_at`` is newer than the one Odoo
    holds, changed at ``held`` (to the second).

    A later second is newer, an earlier one older; in the same second the version is
    newer only if its content differs from the held one: ``content_differs`` is a bool,
    or a callable that gives it (called only then).
    """
    modified = held_time(modified_at)
    held = held_time(held)
    if modified != held:
        return modified > held
    return bool(content_differs() if callable(content_differs) else content_differs)


def content_fingerprint(node, volatile_keys=()):
    """A fingerprint of a Wave record's content, leaving out ``volatile_keys`` (those
    that change while the content does not, ``modifiedAt`` among them): tells two
    versions of the same second apart."""
    content = {k: v for k, v in node.items() if k not in volatile_keys}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
