"""HTTP transport and GraphQL client for Wave's public API.

:class:`WaveClient` owns one keep-alive ``requests.Session`` and implements
the retry policy:

* queries, and any request that never reached Wave (connection refused, DNS
  failure, connect timeout), are retried with exponential backoff and full
  jitter: ``sleep(rng() * min(backoff_cap, backoff_base * 2 ** attempt))``;
* a mutation whose response is lost (read timeout, connection dropped after
  sending, HTTP 5xx other than 503, INTERNAL_SERVER_ERROR) raises
  :class:`WaveOutcomeUnknownError` and is never sent twice;
* a mutation answered HTTP 503 was not processed: it raises
  :class:`WaveServerError` (the caller sends it again later);
* HTTP 429 / RATE_LIMITED is retried (also for mutations: not applied) after
  ``Retry-After`` seconds, through the rate limiter's ``penalize`` if any;
* a redirect (3xx) is never followed (the request carries the token) and
  raises :class:`WaveConfigurationError` ``REDIRECT_REFUSED``, never retried;
* UNAUTHENTICATED / HTTP 401 refreshes the access token and retries. A token
  Wave accepted earlier (it got an answer) has expired: its refresh is free. A
  token that was never accepted counts: at most two such refreshes, never twice
  for the same token, then :class:`WaveAuthenticationError` (the connection is
  disconnected). A fresh token refused right after a refresh that followed an
  expiry (the grant works: Wave accepted a token and issued a new one) raises the
  retryable ``TOKEN_REFUSED_AFTER_REFRESH`` instead; refused again right after a
  refresh, it is final as above.
* a 429 closes the rate limiter's budget for ``Retry-After`` even when it answers
  the last attempt (the next request, of any job, waits as Wave asked).
"""

import logging
import random
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from . import errors_map
from .answers import (
    alias_exception,
    check_payload,
    errors_at,
    is_last_page,
    not_found_at,
    nothing_applied,
)
from .exceptions import (
    WaveAuthenticationError,
    WaveError,
    WaveNotFoundError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveServerError,
    WaveTransportError,
)
from .graphql import (
    build_lookup_document,
    build_mutation_document,
    check_name,
    connection_nodes,
    get_path,
    operation_info,
)
from .redact import redact, redact_text
from .urls import check_url

_logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "wave_accounting_integration/18.0 (+Odoo)"
DEFAULT_ENDPOINT = "https://gql.waveapps.com/graphql/public"


class _RetryError(Exception):
    """Internal signal: the attempt failed in a way that may be retried."""

    def __init__(self, error, *, wait=None, rate_limited=False, refresh=False):
        super().__init__(str(error))
        self.error = error
        self.wait = wait
        self.rate_limited = rate_limited
        self.refresh = refresh


#: Refreshes per logical request after UNAUTHENTICATED answers on tokens Wave never
#: accepted (the refresh of an expired token that worked before is not counted).
MAX_TOKEN_REFRESHES = 2
#: HTTP status of an answer whose request was not processed (a mutation is safe to resend).
NOT_PROCESSED_STATUS = 503


class _Call:
    """Book-keeping of one logical request (several HTTP attempts)."""

    def __init__(self, kind, name, variables, priority):
        self.kind = kind
        self.name = name
        self.variables = variables
        self.priority = priority
        self.started = time.monotonic()
        self.retries = 0
        self.refreshed = False
        self.token = None
        self.sent_token = None
        self.rejected_tokens = set()
        self.counted_refusals = 0  # refusals of tokens Wave never accepted
        self.expired_refreshes = 0  # refreshes after an accepted token expired
        self.fresh = False  # the token about to be sent comes from a refresh, unanswered yet
        self.http_status = None
        self.error_codes = []

    def evidence(self, endpoint, error):
        """Return redacted evidence for an outcome-unknown mutation."""
        return {
            "operation": self.name,
            "kind": self.kind,
            "variables": redact(self.variables),
            "endpoint": endpoint,
            "http_status": self.http_status,
            "error": redact_text(f"{type(error).__name__}: {error}"),
            "retries": self.retries,
        }


class GraphQLResult:
    """Decoded GraphQL answer: ``data``, tolerated ``errors`` and HTTP status."""

    def __init__(self, data, errors, http_status):
        """Store the parts of the answer."""
        self.data = data or {}
        self.errors = errors or []
        self.http_status = http_status


def build_session(pool_maxsize=10):
    """Return a keep-alive ``requests.Session`` without urllib3-level retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def is_pre_send_failure(exc):
    """Return True when ``exc`` proves the request never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def decode_json(response):
    """Return the JSON body of ``response`` as a dict, or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class WaveClient:
    """GraphQL client for Wave with retries, token refresh and rate limiting."""

    def __init__(
        self,
        endpoint,
        token_provider,
        *,
        timeout=(5, 30),
        allow_insecure_loopback=False,
        max_retries=4,
        backoff_base=0.5,
        backoff_cap=30.0,
        sleep=time.sleep,
        rng=random.random,
        rate_limiter=None,
        request_logger=None,
        user_agent=DEFAULT_USER_AGENT,
        session=None,
        max_rate_limit_wait=60.0,
    ):
        """Configure the client; raise :class:`WaveConfigurationError` on a bad URL.

        ``max_rate_limit_wait``: without a rate limiter, a 429 asking to wait
        longer than this raises :class:`WaveRateLimitedError` instead of sleeping.
        """
        self.endpoint = check_url(endpoint, allow_insecure_loopback)
        self.token_provider = token_provider
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.rng = rng
        self.rate_limiter = rate_limiter
        self.request_logger = request_logger
        self.user_agent = user_agent
        self.max_rate_limit_wait = max_rate_limit_wait
        self._own_session = session is None
        self.session = session if session is not None else build_session()
        # Tokens Wave answered with something other than a refusal (this client's calls).
        self._accepted_tokens = set()

    # -- lifecycle -----------------------------------------------------------------
    def close(self):
        """Close the HTTP session if this client created it."""
        if self._own_session:
            self.session.close()

    def __enter__(self):
        """Use the client as a context manager."""
        return self

    def __exit__(self, *exc_info):
        """Close the session on exit."""
        self.close()

    # -- public API ----------------------------------------------------------------
    def execute(self, query, variables=None, *, operation_name=None, priority="bulk"):
        """Run one GraphQL document and return its ``data`` dict.

        Raises a :class:`WaveError` subclass on any GraphQL error or failure.
        """
        return self.request(query, variables, operation_name=operation_name, priority=priority).data

    def request(
        self, query, variables=None, *, operation_name=None, priority="bulk", tolerate=None
    ):
        """Run a document; return a :class:`GraphQLResult`.

        ``tolerate(errors) -> bool`` may accept partial GraphQL errors (they are
        then returned in ``result.errors`` instead of raised).
        """
        kind, name = operation_info(query, operation_name)
        call = _Call(kind, name, variables or {}, priority)
        payload = {"query": query, "variables": variables or {}, "operationName": name}
        try:
            result = self._run(call, payload, tolerate)
        except WaveError as exc:
            self._report(call, exc)
            raise
        self._report(call, None)
        return result

    def read_page(self, query, variables, connection_path, *, page, page_size, priority="bulk"):
        """One page of a paginated connection: ``(data, nodes, page_info)``.

        ``data`` is the whole answer (a query may read more than the connection),
        ``nodes`` the ``edges[].node`` of the connection at ``connection_path``.
        """
        page_vars = dict(variables or {}, page=page, pageSize=page_size)
        data = self.execute(query, page_vars, priority=priority)
        connection = get_path(data, connection_path) or {}
        return data, connection_nodes(connection), connection.get("pageInfo") or {}

    def iterate_pages(
        self, query, variables, connection_path, *, page_size=100, priority="bulk", start_page=1
    ):
        """Yield ``(data, nodes, page_info)`` page after page (see :meth:`read_page`).

        ``query`` must declare ``$page: Int`` and ``$pageSize: Int`` and pass them
        to the connection found at ``connection_path`` (e.g. ``"business.invoices"``).
        Pages are fetched lazily; iteration stops after ``pageInfo.totalPages``.
        """
        page = start_page
        while True:
            data, nodes, page_info = self.read_page(
                query, variables, connection_path, page=page, page_size=page_size, priority=priority
            )
            yield data, nodes, page_info
            if is_last_page(page_info, page, len(nodes)):
                return
            page += 1

    def iterate(
        self, query, variables, connection_path, *, page_size=100, priority="bulk", start_page=1
    ):
        """Yield ``edges[].node`` of a paginated connection, one request per page."""
        for _data, nodes, _page_info in self.iterate_pages(
            query,
            variables,
            connection_path,
            page_size=page_size,
            priority=priority,
            start_page=start_page,
        ):
            yield from nodes

    def lookup_many(self, business_id, field, ids, selection, *, chunk_size=50, priority="bulk"):
        """Look up many ``business.<field>(id:)`` objects with aliased queries.

        Returns ``{id: node or None}`` (None when Wave answered NOT_FOUND for
        that id); ``ceil(len(set(ids)) / chunk_size)`` requests are sent.
        """
        check_name(field, "field")
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        unique = list(dict.fromkeys(ids))
        found = {}
        for start in range(0, len(unique), chunk_size):
            chunk = unique[start : start + chunk_size]
            found.update(self._lookup_chunk(business_id, field, chunk, selection, priority)[0])
        return found

    def lookup_with(self, business_id, field, ids, selection, also, *, priority="bulk"):
        """Look up ``ids`` as :meth:`lookup_many` does, in ONE request that also reads
        more fields of the business.

        ``also``: ``(declarations, fields, variables)``: variable declarations
        (``"$page: Int!"``), fields of ``business`` aliased apart from the look-up's
        ``i<n>``, and their variables. Returns ``(found, business)``: ``{id: node or
        None}`` and the answer's ``business`` object, where those fields are.
        """
        check_name(field, "field")
        return self._lookup_chunk(
            business_id, field, list(dict.fromkeys(ids)), selection, priority, also=also
        )

    def mutate(  # pylint: disable=redefined-builtin
        self, name, input, selection="", *, input_type=None, priority="interactive"
    ):
        """Run mutation ``name(input: $input)`` and return its payload dict.

        ``didSucceed`` and ``inputErrors`` are always selected; a payload with
        ``didSucceed: false`` raises :class:`WaveValidationError`.
        """
        check_name(name, "mutation name")
        op_name = name[0].upper() + name[1:]
        document = build_mutation_document([(None, name, selection, input_type)], op_name)
        data = self.execute(document, {"input": input}, operation_name=op_name, priority=priority)
        outcome = check_payload(name, data.get(name))
        if isinstance(outcome, WaveError):
            raise outcome
        return outcome

    def mutate_many(self, entries, *, priority="bulk", operation_name="WaveMutateMany"):
        """Send several mutations in ONE request using aliases.

        ``entries``: ``[(alias, name, input, selection)]`` (optionally a 5th item,
        the input type name). Returns ``{alias: payload or WaveError}``: a
        :class:`WaveValidationError` when that mutation answered ``didSucceed:
        false``, another :class:`WaveError` when Wave reported an error at that
        alias. Mutations run in the given order (GraphQL runs them serially).
        """
        entries = [tuple(entry) for entry in entries]
        if not entries:
            return {}
        aliases = [entry[0] for entry in entries]
        if len(set(aliases)) != len(aliases):
            raise ValueError("mutate_many aliases must be unique")
        spec = [(e[0], e[1], e[3], e[4] if len(e) > 4 else None) for e in entries]
        document = build_mutation_document(spec, check_name(operation_name))
        variables = {f"in_{e[0]}": e[2] for e in entries}
        result = self.request(
            document,
            variables,
            operation_name=operation_name,
            priority=priority,
            tolerate=errors_at(set(aliases)),
        )
        return self._split_aliases(entries, variables, result)

    # -- batching internals --------------------------------------------------------
    def _lookup_chunk(self, business_id, field, chunk, selection, priority, also=None):
        """Look up one chunk of ids in one request: ``(found, business)``."""
        document = build_lookup_document(field, len(chunk), selection, also and also[:2])
        variables = dict(also[2]) if also else {}
        variables["businessId"] = business_id
        variables.update({f"id{i}": obj_id for i, obj_id in enumerate(chunk)})
        aliases = {f"i{i}" for i in range(len(chunk))}
        result = self.request(
            document,
            variables,
            operation_name="WaveLookupMany",
            priority=priority,
            tolerate=not_found_at(aliases),
        )
        business = (result.data or {}).get("business")
        if business is None:
            raise WaveNotFoundError(
                f"Wave business {business_id!r} could not be found.",
                code="NOT_FOUND",
                details={"business_id": business_id},
            )
        return {obj_id: business.get(f"i{i}") for i, obj_id in enumerate(chunk)}, business

    def _split_aliases(self, entries, variables, result):
        """Turn a batched mutation answer into ``{alias: payload or WaveError}``."""
        by_alias = {}
        for error in result.errors:
            by_alias.setdefault(error["path"][0], []).append(error)
        outcome = {}
        for alias, name, *_rest in entries:
            errors = by_alias.get(alias)
            if errors:
                outcome[alias] = alias_exception(alias, name, variables, errors)
            else:
                outcome[alias] = check_payload(name, result.data.get(alias))
        return outcome

    # -- request loop --------------------------------------------------------------
    def _run(self, call, payload, tolerate):
        """Attempt the request until success, a final error or retries exhausted."""
        while True:
            try:
                return self._attempt(call, payload, tolerate)
            except _RetryError as retry:
                self._prepare_retry(call, retry)

    def _attempt(self, call, payload, tolerate):
        """Send one HTTP attempt and interpret its answer."""
        if self.rate_limiter is not None:
            self.rate_limiter.acquire(call.priority)
        token = call.sent_token = call.token or self.token_provider.get_access_token()
        if not token:
            raise WaveAuthenticationError(
                "No Wave access token is available; connect the Wave account first.",
                code="NO_TOKEN",
            )
        headers = {
            "Authorization": f"Bearer {token}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }
        try:
            # Carries the token: a redirect's target was never checked (see _interpret).
            response = self.session.post(
                self.endpoint,
                json=payload,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._transport_failure(call, exc) from None
        call.http_status = response.status_code
        fresh, call.fresh = call.fresh, False
        return self._interpret(call, response, tolerate, fresh)

    def _transport_failure(self, call, exc):
        """Classify a ``requests`` exception; return the exception to raise."""
        text = redact_text(f"{type(exc).__name__}: {exc}")
        if is_pre_send_failure(exc):
            return _RetryError(
                WaveTransportError(
                    f"Could not connect to Wave ({text}); check the network and try again.",
                    code="CONNECT_FAILED",
                    details={"operation": call.name},
                )
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return WaveTransportError(
                f"TLS error talking to Wave: {text}",
                code="TLS_ERROR",
                details={"operation": call.name},
            )
        if not isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
            return WaveTransportError(f"Invalid request to Wave: {text}", code="REQUEST_ERROR")
        if call.kind == "mutation":
            return WaveOutcomeUnknownError(
                code="OUTCOME_UNKNOWN", details=call.evidence(self.endpoint, exc)
            )
        return _RetryError(
            WaveTransportError(
                f"Wave did not answer in time or dropped the connection ({text}).",
                code="NO_RESPONSE",
                details={"operation": call.name},
            )
        )

    def _interpret(self, call, response, tolerate, fresh=False):
        """Map one HTTP answer to a result, a final error or a retry.

        ``fresh``: the token sent was obtained by this call's refresh, unanswered before.
        """
        status = response.status_code
        body = decode_json(response)
        errors = (body or {}).get("errors") or []
        call.error_codes = errors_map.error_codes(errors)
        codes = set(call.error_codes)
        refused = status == 401 or bool(codes & errors_map.AUTH_CODES)
        if not refused and (body is not None or status == 429):
            # Wave's API answered (or rate limited the token): it authenticated the token.
            self._accepted_tokens.add(call.sent_token)
        retry_after = errors_map.parse_retry_after(response.headers.get("Retry-After"))
        extra = {"operation": call.name, "http_status": status}
        if errors_map.is_redirect(status):
            raise errors_map.redirect_error(status, response.headers.get("Location"), extra)
        if status == 429 or (
            codes & errors_map.RATE_CODES and (call.kind != "mutation" or nothing_applied(body))
        ):
            error = (
                errors_map.exception_for_errors(errors, extra, retry_after)
                if errors
                else errors_map.exception_for_status(429, "", extra, retry_after)
            )
            raise _RetryError(error, wait=retry_after, rate_limited=True)
        if refused:
            raise self._unauthenticated(call, errors, extra, fresh)
        if status >= 500:
            raise self._server_failure(
                call, errors_map.exception_for_status(status, response.text, extra)
            )
        if status == 403 or (body is None and status >= 400):
            raise errors_map.exception_for_status(status, response.text, extra, errors=errors)
        if body is None:
            raise self._server_failure(
                call,
                WaveServerError(
                    "Wave sent an unreadable answer; try again later.",
                    code="MALFORMED_RESPONSE",
                    details=dict(extra, body=response.text[:200]),
                ),
            )
        if errors and tolerate is not None and tolerate(errors):
            return GraphQLResult(body.get("data"), errors, status)
        if codes & errors_map.SERVER_CODES:
            raise self._server_failure(call, errors_map.exception_for_errors(errors, extra))
        if errors:
            raise errors_map.exception_for_errors(errors, extra)
        if status >= 400:
            raise errors_map.exception_for_status(status, response.text, extra)
        return GraphQLResult(body.get("data"), [], status)

    def _unauthenticated(self, call, errors, extra, fresh):
        """Refresh the token (retry signal), else return the final error.

        ``fresh``: the refused token came from this call's refresh and was never answered.
        """
        error = (
            errors_map.exception_for_errors(errors, extra)
            if errors
            else errors_map.exception_for_status(401, "", extra)
        )
        if not isinstance(error, WaveAuthenticationError):
            error = WaveAuthenticationError(code="UNAUTHENTICATED", details=extra)
        rejected = call.sent_token
        if rejected in call.rejected_tokens:
            return error  # the refresh handed back a refused token: a refresh loop
        call.rejected_tokens.add(rejected)
        if rejected in self._accepted_tokens:
            # Wave accepted this token before: it expired. Its refresh is not counted
            # (each needs an answer in between, so retries bound them).
            call.expired_refreshes += 1
        else:
            # A refresh may hand back a token another worker has just obtained; Wave can
            # expire that one early too, so a second refresh is allowed, never a third.
            call.counted_refusals += 1
            if fresh and call.expired_refreshes and call.counted_refusals == 1:
                # A token Wave accepted expired and the refresh worked, so the grant
                # is valid: the fresh token's refusal is retried later, not final.
                return errors_map.token_refused_after_refresh(extra)
            if call.counted_refusals > MAX_TOKEN_REFRESHES:
                return error
        call.refreshed = True
        _logger.info(
            "Wave answered UNAUTHENTICATED for %s; refreshing the access token.", call.name
        )
        call.token = self.token_provider.refresh_access_token()
        call.fresh = True
        return _RetryError(error, refresh=True)

    def _server_failure(self, call, error):
        """5xx: retry a query; an unanswered mutation has an unknown outcome.

        HTTP 503 (Service Unavailable) says the request was not processed: a
        mutation that gets it was not applied and is safe to send again later,
        so it raises the :class:`WaveServerError` itself (not retried here: the
        caller's ledger puts it back to pending), never an unknown outcome.
        """
        if call.kind == "mutation" and call.http_status == NOT_PROCESSED_STATUS:
            return error
        if call.kind == "mutation":
            return WaveOutcomeUnknownError(
                code="OUTCOME_UNKNOWN", details=call.evidence(self.endpoint, error)
            )
        return _RetryError(error)

    def _prepare_retry(self, call, retry):
        """Sleep before the next attempt, or raise the final error."""
        if retry.refresh:
            return
        if call.retries >= self.max_retries:
            if retry.rate_limited and self.rate_limiter is not None:
                # The last attempt's 429 still closes the shared budget: the next
                # request (another job or worker) waits as Wave asked.
                self.rate_limiter.penalize(self._rate_limit_wait(call, retry))
            raise retry.error
        call.retries += 1
        if retry.rate_limited:
            self._wait_rate_limited(call, retry)
            return
        delay = self.rng() * min(self.backoff_cap, self.backoff_base * 2 ** (call.retries - 1))
        _logger.debug(
            "Retrying Wave %s %s in %.2f s (attempt %d): %s",
            call.kind,
            call.name,
            delay,
            call.retries + 1,
            retry.error.code,
        )
        self.sleep(delay)

    def _wait_rate_limited(self, call, retry):
        """Wait as Wave asked (through the rate limiter when there is one)."""
        wait = self._rate_limit_wait(call, retry)
        _logger.warning("Wave rate limit hit on %s; waiting %.1f s.", call.name, wait)
        if self.rate_limiter is not None:
            self.rate_limiter.penalize(wait)
            return
        if wait > self.max_rate_limit_wait:
            raise WaveRateLimitedError(retry_after=wait, details={"operation": call.name})
        self.sleep(wait)

    def _rate_limit_wait(self, call, retry):
        """Seconds to wait after a 429: ``Retry-After``, else the backoff."""
        if retry.wait is not None:
            return retry.wait
        return min(self.backoff_cap, self.backoff_base * 2**call.retries)

    # -- reporting -----------------------------------------------------------------
    def _report(self, call, error):
        """Send the request record to ``request_logger`` and the Python logger."""
        if isinstance(error, WaveOutcomeUnknownError):
            outcome = "outcome_unknown"
        else:
            outcome = "success" if error is None else "error"
        record = {
            "operation_name": call.name,
            "kind": call.kind,
            "variables": redact(call.variables),
            "duration_ms": round((time.monotonic() - call.started) * 1000.0, 1),
            "http_status": call.http_status,
            "error_codes": [code for code in call.error_codes if code],
            "retries": call.retries,
            "outcome": outcome,
            "error": None if error is None else type(error).__name__,
            "priority": call.priority,
        }
        level = logging.DEBUG if error is None else logging.WARNING
        _logger.log(
            level,
            "Wave %s %s -> %s (HTTP %s, %s ms, %d retries)%s",
            call.kind,
            call.name,
            outcome,
            call.http_status,
            record["duration_ms"],
            call.retries,
            "" if error is None else f": {error}",
        )
        if self.request_logger is not None:
            try:
                self.request_logger(record)
            except Exception:  # a logging hook must never break a request
                _logger.exception("Wave request_logger failed")
