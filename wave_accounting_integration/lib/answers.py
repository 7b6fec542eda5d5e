"""Reading Wave's answers: mutation payloads, pages, and the errors of aliased batches.

Plain helpers of :mod:`.transport` (the client): which answer proves a mutation
did not run, which errors belong to one alias of a batched request, when a page
is the last one.
"""

import re

from . import errors_map
from .exceptions import WaveError, WaveOutcomeUnknownError, WaveServerError, WaveValidationError
from .redact import redact


def check_payload(name, payload):
    """Return the mutation payload, or a :class:`WaveError` describing its failure."""
    if payload is None:
        return WaveError(
            f"Wave returned no result for {name}.",
            code="EMPTY_PAYLOAD",
            details={"operation": name},
        )
    if not payload.get("didSucceed"):
        input_errors = payload.get("inputErrors") or []
        return WaveValidationError(
            code="INPUT_ERRORS", input_errors=input_errors, details={"operation": name}
        )
    return payload


def is_last_page(page_info, page, edge_count):
    """Decide whether the page just read was the last one.

    Without ``totalPages`` only an empty page ends the walk: a short page may
    just mean the server clamped ``pageSize``.
    """
    total_pages = page_info.get("totalPages")
    if total_pages is not None:
        return page >= total_pages or edge_count == 0
    return edge_count == 0


def nothing_applied(body):
    """Return True when a mutation answer proves nothing ran (all fields null, no 5xx)."""
    data = (body or {}).get("data") or {}
    codes = set(errors_map.error_codes((body or {}).get("errors")))
    return all(value is None for value in data.values()) and not (codes & errors_map.SERVER_CODES)


# A "not found" answer without Wave's NOT_FOUND code is recognised by its message.
NOT_FOUND_MESSAGE = re.compile(
    r"not\s+(be\s+)?found|does\s*n[o']t\s+exist|no\s+such", re.IGNORECASE
)


def is_not_found(error):
    """True when one GraphQL error says "not found": Wave's ``extensions.code``
    NOT_FOUND, or (no code at all) a message saying so."""
    code = errors_map.error_code(error)
    if code is not None:
        return code in errors_map.NOT_FOUND_CODES
    return bool(NOT_FOUND_MESSAGE.search(error.get("message") or ""))


def not_found_at(aliases):
    """Tolerate "not found" errors of the look-up ``aliases``.

    Wave documents ``extensions.code == NOT_FOUND`` at ``business.<alias>``; the
    other plausible shapes are tolerated too: no code but a message saying "not
    found", a path that stops at ``business`` or no path at all. Which ids are
    gone is read from the answer (their alias is null), not from the errors;
    any other error is not tolerated.
    """

    def located(err):
        path = err.get("path") or []
        if not path:
            return True
        return path[0] == "business" and (len(path) == 1 or path[1] in aliases)

    def tolerate(errors):
        return all(is_not_found(err) and located(err) for err in errors)

    return tolerate


def errors_at(aliases):
    """Tolerate errors that are each located under one of the mutation ``aliases``."""

    def tolerate(errors):
        return all((err.get("path") or [None])[0] in aliases for err in errors)

    return tolerate


def alias_exception(alias, name, variables, errors):
    """Exception for one alias of a batched mutation that reported errors."""
    error = errors_map.exception_for_errors(errors, {"operation": name, "alias": alias})
    if isinstance(error, WaveServerError):
        return WaveOutcomeUnknownError(
            code="OUTCOME_UNKNOWN",
            details={
                "operation": name,
                "alias": alias,
                "variables": redact(variables.get(f"in_{alias}")),
                "error": error.message,
            },
        )
    return error
