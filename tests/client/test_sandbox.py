"""WaveClient and OAuth helpers over real HTTP against the local Wave sandbox.

The sandbox (``tests/wave_sandbox``) is started once for the module; tests
skip when it cannot be imported or started.
"""

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import wave_client_lib as lib

ADMIN = "sandbox-admin"
CLIENT_ID, CLIENT_SECRET = "odoo-test-client", "odoo-test-secret"
REDIRECT = "https://odoo.example.test/wave/oauth/callback"
USER_Q = "query Me { user { id defaultEmail } }"
LIST_INVOICES = """
query ListInvoices($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    invoices(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id invoiceNumber status } }
    }
  }
}"""
PAYMENTS_SELECTION = (
    "id invoiceNumber amountPaid { value } payments { id amount paymentDate paymentMethod }"
)
CUSTOMERS_Q = """
query Customers($businessId: ID!) {
  business(id: $businessId) { customers(pageSize: 1) { pageInfo { totalCount } } }
}"""


@pytest.fixture(scope="module")
def sandbox():
    """Start the sandbox with 1,000 invoices in the US business."""
    try:
        from wave_sandbox import WaveSandbox
    except ImportError as exc:  # pragma: no cover - sandbox not available
        pytest.skip(f"wave_sandbox not importable: {exc}")
    sb = WaveSandbox(
        seed=42, port=0, rate_limit=0, rate_window=60, access_token_ttl=7200, admin_token=ADMIN
    )
    sb.start()
    us, _ca = sb.seed_demo(invoices_per_business=1000)
    sb.business_id = us.id
    sb.register_oauth_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
    yield sb
    sb.stop()


@pytest.fixture
def sb(sandbox):
    """Clean faults and counters before each test."""
    admin(sandbox, "DELETE", "faults")
    admin(sandbox, "POST", "counters/reset")
    admin(sandbox, "POST", "config", {"rate_limit": 0})
    return sandbox


def admin(sb, method, path, body=None):
    """Call the sandbox admin API."""
    response = requests.request(
        method,
        f"{sb.base_url}/sandbox/{path}",
        json=body,
        headers={"X-Sandbox-Admin-Token": ADMIN},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def fault(sb, **spec):
    """Install a fault."""
    return admin(sb, "POST", "faults", spec)


def counters(sb):
    """Return the sandbox request counters."""
    return admin(sb, "GET", "counters")


class SleepRecorder:
    """Injected ``sleep`` recording the delays instead of sleeping."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        """Record the delay."""
        self.delays.append(seconds)


class FatProvider:
    """Token provider over a sandbox full-access token (refresh issues a new one)."""

    def __init__(self, sb, scopes=None):
        self.sb, self.scopes = sb, scopes
        self.gets = self.refreshes = 0
        self.current = sb.issue_full_access_token(scopes=scopes)

    def get_access_token(self):
        """Return the current token."""
        self.gets += 1
        return self.current

    def refresh_access_token(self):
        """Issue a new token."""
        self.refreshes += 1
        self.current = self.sb.issue_full_access_token(scopes=self.scopes)
        return self.current


def client_for(sb, provider=None, **kwargs):
    """Return a WaveClient talking to the sandbox."""
    options = {
        "allow_insecure_loopback": True,
        "sleep": SleepRecorder(),
        "rng": lambda: 0.0,
        "timeout": (2, 5),
    }
    options.update(kwargs)
    return lib.WaveClient(sb.graphql_url, provider or FatProvider(sb), **options)


def authorize_code(sb, scopes, state="xyz-state"):
    """Run the browser step of the OAuth flow (auto-approved); return the code."""
    url = lib.build_authorize_url(
        sb.authorize_url,
        CLIENT_ID,
        REDIRECT,
        scopes,
        state,
        extra_params={"auto_approve": "1"},
        allow_insecure_loopback=True,
    )
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


# -- OAuth --------------------------------------------------------------------------------
def test_oauth_code_exchange_refresh_and_rotation(sb):
    scopes = lib.scopes_for_features(["inbound_invoices"])
    code = authorize_code(sb, scopes)
    first = lib.exchange_code(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, code, REDIRECT, allow_insecure_loopback=True
    )
    assert first.scopes == scopes and first.extra.get("userId")
    assert 7100 < first.expires_in() <= 7200
    with pytest.raises(lib.WaveGrantRevokedError):  # a code works once
        lib.exchange_code(
            sb.token_url, CLIENT_ID, CLIENT_SECRET, code, REDIRECT, allow_insecure_loopback=True
        )
    client = client_for(sb, lib.StaticTokenProvider(first.access_token))
    assert client.execute(USER_Q)["user"]["id"]

    second = lib.refresh_token(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, first.refresh_token, allow_insecure_loopback=True
    )
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    with pytest.raises(lib.WaveGrantRevokedError):  # the old refresh token is dead
        lib.refresh_token(
            sb.token_url,
            CLIENT_ID,
            CLIENT_SECRET,
            first.refresh_token,
            allow_insecure_loopback=True,
        )
    with pytest.raises(lib.WaveAuthenticationError) as info:
        lib.refresh_token(
            sb.token_url,
            CLIENT_ID,
            "wrong-secret",
            second.refresh_token,
            allow_insecure_loopback=True,
        )
    assert not isinstance(info.value, lib.WaveGrantRevokedError)
    client = client_for(sb, lib.StaticTokenProvider(second.access_token))
    assert client.execute(USER_Q)["user"]["id"]


def test_expired_access_token_is_refreshed_once(sb):
    code = authorize_code(sb, lib.scopes_for_features(["inbound_invoices"]))
    tokens = lib.exchange_code(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, code, REDIRECT, allow_insecure_loopback=True
    )
    saved = []
    provider = lib.OAuthTokenProvider(
        sb.token_url,
        CLIENT_ID,
        CLIENT_SECRET,
        tokens,
        on_refresh=saved.append,
        allow_insecure_loopback=True,
    )
    sb.state.tokens[tokens.access_token].expires_at = time.time() - 1  # expired server-side
    assert client_for(sb, provider).execute(USER_Q)["user"]["id"]
    assert len(saved) == 1 and saved[0].access_token != tokens.access_token
    assert counters(sb)["by_operation_name"]["Me"] == 2


class ExpiringProvider(FatProvider):
    """Wave expires each token it issues before its first use (``expire_fresh``)."""

    expire_fresh = True

    def refresh_access_token(self):
        """Issue a new token, expired at once while ``expire_fresh``."""
        token = super().refresh_access_token()
        if self.expire_fresh:
            self.sb.expire_tokens(token=token)
        return token


def graphql_journal(sb, since):
    """The sandbox's journal of GraphQL requests since ``since`` (Unix time)."""
    entries = admin(sb, "GET", f"journal?since={since}")["entries"]
    return [entry for entry in entries if entry["kind"] == "graphql"]


def test_tokens_accepted_then_expired_do_not_count_toward_the_refresh_limit(sb):
    # Each token works (Wave answers 500, a retried query) and then expires before
    # the next attempt: three expiries in one request are three free refreshes.
    provider = FatProvider(sb)
    client = client_for(sb, provider, sleep=lambda _s: sb.expire_tokens(all=True))
    assert client.execute(USER_Q)["user"]["id"]  # the first token works
    sb.expire_tokens(all=True)
    fault(sb, kind="http_error", status=500, operation="Me", count=2)
    since = time.time()
    assert client.execute(USER_Q)["user"]["id"]
    keys = [entry["key"] for entry in graphql_journal(sb, since)]
    # Wave saw four tokens: expired, 500 then expired twice, and the last one answered.
    assert len(set(keys)) == 4 and len(keys) == 6, keys
    assert provider.refreshes == 3


def test_fresh_token_refused_after_refresh_retries_then_disconnects(sb):
    provider = ExpiringProvider(sb)
    client = client_for(sb, provider)
    assert client.execute(USER_Q)["user"]["id"]
    sb.expire_tokens(all=True)  # the token that worked expires
    since = time.time()
    with pytest.raises(lib.WaveError) as info:
        client.execute(USER_Q)
    # Retryable (the job runs again), not an authentication error (a disconnect).
    assert not isinstance(info.value, lib.WaveAuthenticationError)
    assert info.value.code == "TOKEN_REFUSED_AFTER_REFRESH"
    assert len(graphql_journal(sb, since)) == 2 and provider.refreshes == 1
    # Fresh tokens refused again right after each refresh: the clear disconnect.
    with pytest.raises(lib.WaveAuthenticationError):
        client.execute(USER_Q)
    assert len(graphql_journal(sb, since)) == 5 and provider.refreshes == 3


def test_revoked_grant_surfaces_as_grant_revoked(sb):
    code = authorize_code(sb, ["user:read"])
    tokens = lib.exchange_code(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, code, REDIRECT, allow_insecure_loopback=True
    )
    provider = lib.OAuthTokenProvider(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, tokens, allow_insecure_loopback=True
    )
    sb.revoke_tokens(token=tokens.access_token)
    sb.revoke_tokens(token=tokens.refresh_token)
    with pytest.raises(lib.WaveGrantRevokedError):
        client_for(sb, provider).execute(USER_Q)


# -- rate limits --------------------------------------------------------------------------
def test_injected_429_waits_as_told_then_succeeds(sb):
    fault(sb, kind="rate_limit", operation="Me", count=1, retry_after=3)
    sleep = SleepRecorder()
    records = []
    client = client_for(sb, sleep=sleep, request_logger=records.append)
    assert client.execute(USER_Q)["user"]["id"]
    assert sleep.delays == [3.0]
    assert records[-1]["retries"] == 1 and records[-1]["outcome"] == "success"
    assert counters(sb)["by_status"]["429"] == 1


def test_real_sliding_window_429_with_token_bucket(sb):
    admin(sb, "POST", "config", {"rate_limit": 2, "rate_window": 1})
    bucket = lib.TokenBucket(capacity=100, period=1.0, max_wait=5.0)
    client = client_for(sb, rate_limiter=bucket, sleep=time.sleep)
    started = time.monotonic()
    for _ in range(3):
        client.execute(USER_Q, priority="interactive")
    assert time.monotonic() - started >= 0.9
    assert counters(sb)["by_status"]["429"] == 1


def test_429_on_the_last_attempt_closes_the_shared_budget(sb):
    # Two clients (two jobs) share one budget; the first gets a 429 on its last attempt.
    fault(sb, kind="rate_limit", operation="Me", count=1, retry_after=2)
    bucket = lib.TokenBucket(capacity=100, period=1.0, max_wait=10.0)
    since = time.time()
    with pytest.raises(lib.WaveRateLimitedError):
        client_for(sb, rate_limiter=bucket, max_retries=0).execute(USER_Q)
    assert client_for(sb, rate_limiter=bucket, sleep=time.sleep).execute(USER_Q)["user"]["id"]
    journal = graphql_journal(sb, since)
    assert [entry["status"] for entry in journal] == [429, 200], journal
    # Wave's own log: the next request came after Retry-After.
    assert journal[1]["t"] - journal[0]["t"] >= 1.9, journal


def test_scope_error(sb):
    client = client_for(sb, FatProvider(sb, scopes="user:read business:read"))
    with pytest.raises(lib.WaveScopeError) as info:
        client.execute(CUSTOMERS_Q, {"businessId": sb.business_id})
    assert "customer:read" in info.value.message


# -- server errors and timeouts -----------------------------------------------------------
def test_5xx_then_success_for_queries(sb):
    fault(sb, kind="http_error", status=503, operation="Me", count=2)
    client = client_for(sb)
    assert client.execute(USER_Q)["user"]["id"]
    assert counters(sb)["by_operation_name"]["Me"] == 3


def test_5xx_bounded_retries_then_clear_failure(sb):
    fault(sb, kind="http_error", status=502, operation="Me")
    with pytest.raises(lib.WaveServerError) as info:
        client_for(sb, max_retries=3).execute(USER_Q)
    assert "502" in info.value.message
    assert counters(sb)["by_operation_name"]["Me"] == 4


def test_read_timeout_on_query_bounded(sb):
    fault(sb, kind="hang", operation="Me", delay=1.5)
    client = client_for(sb, max_retries=1, timeout=(2, 0.3))
    with pytest.raises(lib.WaveTransportError) as info:
        client.execute(USER_Q)
    assert info.value.code == "NO_RESPONSE"
    assert counters(sb)["by_operation_name"]["Me"] == 2


def _customer_count(client, business_id):
    data = client.execute(CUSTOMERS_Q, {"businessId": business_id})
    return data["business"]["customers"]["pageInfo"]["totalCount"]


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "drop_after"},
        {"kind": "malformed"},
        {"kind": "hang", "delay": 1.0},
        {"kind": "http_error", "status": 500},
    ],
)
def test_lost_mutation_answer_is_outcome_unknown_sent_once(sb, spec):
    client = client_for(sb, timeout=(2, 0.3))
    before = _customer_count(client, sb.business_id)
    fault(sb, operation="customerCreate", count=1, **spec)
    with pytest.raises(lib.WaveOutcomeUnknownError) as info:
        client.mutate(
            "customerCreate", {"businessId": sb.business_id, "name": "Lost Co"}, "customer { id }"
        )
    assert counters(sb)["by_operation"]["customerCreate"] == 1
    assert info.value.details["operation"] == "CustomerCreate"
    assert info.value.details["variables"]["input"]["name"] == "Lost Co"
    applied = spec["kind"] in ("drop_after", "malformed")
    assert _customer_count(client, sb.business_id) == before + (1 if applied else 0)


# -- validation ---------------------------------------------------------------------------
def test_graphql_validation_error_is_readable(sb):
    bad = 'query Bad { business(name: "x") { id } }'
    with pytest.raises(lib.WaveValidationError) as info:
        client_for(sb).execute(bad)
    assert info.value.code == "GRAPHQL_VALIDATION_FAILED"
    assert "Unknown argument" in info.value.message and "name" in info.value.message
    assert "line 1" in info.value.message


def test_variable_value_error(sb):
    query = "query Q($id: ID!) { business(id: $id) { id } }"
    with pytest.raises(lib.WaveValidationError):
        client_for(sb).execute(query, {"id": None})


def test_not_found(sb):
    query = "query Q($id: ID!) { business(id: $id) { id } }"
    with pytest.raises(lib.WaveNotFoundError):
        client_for(sb).execute(query, {"id": "QnVzaW5lc3M6bm9wZQ=="})


def test_input_errors_raise_validation_error(sb):
    with pytest.raises(lib.WaveValidationError) as info:
        client_for(sb).mutate(
            "salesTaxCreate",
            {
                "businessId": sb.business_id,
                "name": "Too long",
                "abbreviation": "X" * 30,
                "rate": "0.05",
            },
            "salesTax { id }",
        )
    assert info.value.input_errors
    assert any("abbreviation" in (e.get("path") or []) for e in info.value.input_errors)
    assert "abbreviation" in str(info.value)


# -- pagination and batching --------------------------------------------------------------
def test_listing_walks_pages_lazily(sb):
    client = client_for(sb)
    gen = client.iterate(
        LIST_INVOICES, {"businessId": sb.business_id}, "business.invoices", page_size=200
    )
    first = next(gen)
    assert first["id"] and counters(sb)["by_operation_name"]["ListInvoices"] == 1
    ids = [first["id"]] + [node["id"] for node in gen]
    assert len(ids) == len(set(ids)) == 1000
    assert counters(sb)["by_operation_name"]["ListInvoices"] == 5


def test_lookup_many_1000_invoices_with_payments(sb):
    client = client_for(sb)
    ids = [
        node["id"]
        for node in client.iterate(
            LIST_INVOICES, {"businessId": sb.business_id}, "business.invoices", page_size=200
        )
    ]
    admin(sb, "POST", "counters/reset")
    missing = "SW52b2ljZTpub3BlLW5vcGU="
    found = client.lookup_many(
        sb.business_id, "invoice", [*ids, missing], PAYMENTS_SELECTION, chunk_size=50
    )
    requests_made = counters(sb)["by_operation_name"]["WaveLookupMany"]
    assert requests_made <= 25
    assert requests_made == 21  # 1,001 ids / 50 per request
    assert found[missing] is None
    assert all(found[i] is not None for i in ids)
    assert any(node["payments"] for node in found.values() if node)


@pytest.mark.parametrize("shape", ["wave", "no_code", "other_path", "bare"])
def test_lookup_many_tolerates_each_not_found_shape(sb, shape):
    """A deleted id reads as None whatever the shape of Wave's "not found" error
    (extensions.code, or only the message; the alias's path, a shorter one or none)."""
    client = client_for(sb)
    ids = [
        node["id"]
        for node in client.iterate(
            LIST_INVOICES, {"businessId": sb.business_id}, "business.invoices", page_size=3
        )
    ][:3]
    missing = "SW52b2ljZTpub3BlLW5vcGU="
    admin(sb, "POST", "config", {"not_found_shape": shape})
    try:
        answer = requests.post(
            sb.graphql_url,
            json={
                "query": "query Q($b: ID!, $i: ID!) { business(id: $b) { i0: invoice(id: $i) "
                "{ id } } }",
                "variables": {"b": sb.business_id, "i": missing},
            },
            headers={"Authorization": f"Bearer {sb.issue_full_access_token()}"},
            timeout=30,
        ).json()
        error = answer["errors"][0]  # the sandbox answers in the shape asked for
        assert ("code" in error["extensions"]) == (shape in ("wave", "other_path"))
        assert (
            error.get("path")
            == {
                "wave": ["business", "i0"],
                "no_code": ["business", "i0"],
                "other_path": ["business"],
                "bare": None,
            }[shape]
        )
        found = client.lookup_many(sb.business_id, "invoice", [*ids, missing], "id")
    finally:
        admin(sb, "POST", "config", {"not_found_shape": "wave"})
    assert found[missing] is None
    assert all(found[i] == {"id": i} for i in ids)


def test_lookup_many_raises_when_the_business_is_not_found(sb):
    """Tolerance covers the looked-up ids only: an unknown business still raises."""
    client = client_for(sb)
    admin(sb, "POST", "config", {"not_found_shape": "no_code"})
    try:
        with pytest.raises(lib.WaveError):
            client.lookup_many("not-a-business", "invoice", ["SW52b2ljZTpub3Bl"], "id")
    finally:
        admin(sb, "POST", "config", {"not_found_shape": "wave"})


def test_mutate_many_approve_and_mark_sent_in_one_request(sb):
    client = client_for(sb)
    query = """query Drafts($businessId: ID!, $page: Int!, $pageSize: Int!) {
      business(id: $businessId) { invoices(page: $page, pageSize: $pageSize, status: DRAFT) {
        pageInfo { totalPages } edges { node { id status } } } } }"""
    drafts = []
    for node in client.iterate(
        query, {"businessId": sb.business_id}, "business.invoices", page_size=50
    ):
        drafts.append(node["id"])
        if len(drafts) == 3:
            break
    assert len(drafts) == 3, "the seeded business needs DRAFT invoices"
    admin(sb, "POST", "counters/reset")
    entries = []
    for n, invoice_id in enumerate(drafts):
        entries.append((f"a{n}", "invoiceApprove", {"invoiceId": invoice_id}, "invoice { id }"))
        entries.append(
            (
                f"s{n}",
                "invoiceMarkSent",
                {"invoiceId": invoice_id, "sendMethod": "MARKED_SENT"},
                "invoice { id status }",
            )
        )
    entries.append(("bad", "invoiceApprove", {"invoiceId": "SW52b2ljZTpub3Bl"}, ""))
    out = client.mutate_many(entries)
    assert counters(sb)["by_operation_name"]["WaveMutateMany"] == 1
    for n in range(3):
        assert out[f"a{n}"]["didSucceed"] is True
        assert out[f"s{n}"]["invoice"]["status"] not in ("DRAFT", "SAVED")
    assert isinstance(out["bad"], lib.WaveError)


# -- redaction ----------------------------------------------------------------------------
def test_no_secret_in_logs_over_http(sb, caplog):
    caplog.set_level(logging.DEBUG)
    code = authorize_code(sb, ["user:read"])
    tokens = lib.exchange_code(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, code, REDIRECT, allow_insecure_loopback=True
    )
    provider = lib.OAuthTokenProvider(
        sb.token_url, CLIENT_ID, CLIENT_SECRET, tokens, allow_insecure_loopback=True
    )
    records = []
    sb.state.tokens[tokens.access_token].expires_at = time.time() - 1
    fault(sb, kind="http_error", status=503, operation="Me", count=1)
    client_for(sb, provider, request_logger=records.append).execute(USER_Q)
    blob = repr(records) + caplog.text
    secrets = [
        tokens.access_token,
        tokens.refresh_token,
        CLIENT_SECRET,
        code,
        provider.token_set.access_token,
        provider.token_set.refresh_token,
    ]
    for secret in secrets:
        assert secret not in blob
    assert records[-1]["retries"] == 1
