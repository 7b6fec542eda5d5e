"""Edge cases of WaveClient over a scripted transport adapter."""

import logging
import socket

import pytest
import requests
from urllib3.exceptions import ProtocolError

QUERY = "query GetUser { user { id defaultEmail } }"
MUTATION = (
    "mutation CreateCustomer($input: CustomerCreateInput!) "
    "{ customerCreate(input: $input) { didSucceed } }"
)
OK = (200, {"data": {"user": {"id": "VXNlcjox"}}})


def gql_error(code, message="boom", path=None):
    """Return a GraphQL error envelope with one error."""
    error = {"message": message, "extensions": {"code": code, "id": "e-1"}}
    if path:
        error["path"] = path
    return {"data": None, "errors": [error]}


# -- HTTPS rule ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url,allow",
    [
        ("http://gql.waveapps.com/graphql/public", False),
        ("http://gql.waveapps.com/graphql/public", True),
        ("http://10.0.0.1/graphql/public", True),
        ("http://127.0.0.1:8080/graphql/public", False),
        ("ftp://127.0.0.1/graphql/public", True),
        ("gql.waveapps.com/graphql/public", True),
    ],
)
def test_https_rule_rejects_before_any_request(lib, fake, tokens, url, allow):
    with pytest.raises(lib.WaveConfigurationError) as info:
        lib.WaveClient(url, tokens, allow_insecure_loopback=allow, session=fake.session)
    assert info.value.code == "HTTPS_REQUIRED"
    assert any(w in info.value.message for w in ("HTTPS", "valid URL", "plain HTTP"))
    assert fake.calls == [] and tokens.gets == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/graphql/public",
        "http://127.9.9.9/graphql/public",
        "http://localhost:1/graphql/public",
        "http://[::1]:8080/graphql/public",
    ],
)
def test_http_loopback_allowed_when_opted_in(lib, tokens, url):
    assert lib.WaveClient(url, tokens, allow_insecure_loopback=True).endpoint == url


# -- request shape ------------------------------------------------------------------------
def test_request_shape_headers_and_timeout(make_client, fake):
    fake.queue(OK)
    client = make_client(timeout=(3, 9))
    data = client.execute(QUERY, {"a": 1})
    assert data == {"user": {"id": "VXNlcjox"}}
    call = fake.calls[0]
    assert call["json"] == {"query": QUERY, "variables": {"a": 1}, "operationName": "GetUser"}
    assert call["headers"]["Authorization"] == "Bearer access-token-1"
    assert call["headers"]["User-Agent"] == "wave_accounting_integration/18.0 (+Odoo)"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["kwargs"]["timeout"] == (3, 9)


def test_mutation_detection(lib):
    assert lib.is_mutation(MUTATION)
    assert not lib.is_mutation(QUERY)
    assert not lib.is_mutation("# mutation in a comment\n{ user { id } }")
    assert not lib.is_mutation('query Q { business(id: "mutation {") { id } }')
    doc = "fragment F on User { id }\nmutation M($i: X!) { a(input: $i) { didSucceed } }"
    assert lib.operation_info(doc) == ("mutation", "M")
    two = "query A { user { id } } mutation B { x { y } }"
    assert lib.operation_info(two, "B") == ("mutation", "B")
    assert lib.operation_info(two, "A") == ("query", "A")


# -- authentication -----------------------------------------------------------------------
def test_unauthenticated_refreshes_once_then_succeeds(make_client, fake, tokens, records):
    fake.queue((200, gql_error("UNAUTHENTICATED", "Login Required")), OK)
    assert make_client().execute(QUERY)["user"]["id"] == "VXNlcjox"
    assert tokens.refreshes == 1
    assert [c["headers"]["Authorization"] for c in fake.calls] == [
        "Bearer access-token-1",
        "Bearer access-token-2",
    ]
    assert records[-1]["outcome"] == "success"


def test_http_401_repeated_raises_after_two_refreshes(lib, make_client, fake, tokens):
    # The first refresh may return a token another worker obtained and Wave expired
    # early: one more refresh is allowed, then the error is final.
    fake.queue((401, {"detail": "expired"}))
    with pytest.raises(lib.WaveAuthenticationError):
        make_client().execute(QUERY)
    assert tokens.refreshes == 2 and len(fake.calls) == 3


def test_unauthenticated_mutation_is_retried_after_refresh(make_client, fake, tokens):
    ok = (200, {"data": {"customerCreate": {"didSucceed": True}}})
    fake.queue((200, gql_error("UNAUTHENTICATED")), ok)
    make_client().execute(MUTATION, {"input": {"name": "A"}})
    assert len(fake.calls) == 2 and tokens.refreshes == 1


def test_revoked_grant_propagates(lib, make_client, fake, tokens):
    tokens.refresh_error = lib.WaveGrantRevokedError(code="invalid_grant")
    fake.queue((401, {}))
    with pytest.raises(lib.WaveGrantRevokedError):
        make_client().execute(QUERY)
    assert len(fake.calls) == 1


# -- rate limiting ------------------------------------------------------------------------
def test_429_waits_retry_after_then_succeeds(make_client, fake, sleeps, records):
    fake.queue((429, gql_error("RATE_LIMITED"), {"Retry-After": "7"}), OK)
    make_client().execute(QUERY)
    assert sleeps.delays == [7.0]
    assert records[-1]["retries"] == 1 and records[-1]["outcome"] == "success"


def test_rate_limited_code_in_body_is_429(make_client, fake, sleeps):
    fake.queue((200, gql_error("RATE_LIMITED"), {"Retry-After": "2"}), OK)
    make_client().execute(QUERY)
    assert sleeps.delays == [2.0]


def test_429_on_mutation_is_retried(make_client, fake):
    ok = (200, {"data": {"customerCreate": {"didSucceed": True}}})
    fake.queue((429, {}, {"Retry-After": "1"}), ok)
    make_client().execute(MUTATION, {"input": {}})
    assert len(fake.calls) == 2


def test_429_goes_through_rate_limiter_penalize(lib, make_client, fake, helpers):
    fake_clock, sleep_recorder = helpers.FakeClock, helpers.SleepRecorder
    clock = fake_clock()
    bucket_sleep = sleep_recorder(clock)
    bucket = lib.TokenBucket(60, 60.0, clock, sleep=bucket_sleep, max_wait=30)
    fake.queue((429, {}, {"Retry-After": "5"}), OK)
    client_sleep = sleep_recorder()
    make_client(rate_limiter=bucket, sleep=client_sleep).execute(QUERY, priority="interactive")
    assert client_sleep.delays == []
    assert sum(bucket_sleep.delays) >= 5.0
    assert len(fake.calls) == 2


def test_429_longer_than_allowed_raises_for_rescheduling(lib, make_client, fake):
    fake.queue((429, {}, {"Retry-After": "600"}))
    with pytest.raises(lib.WaveRateLimitedError) as info:
        make_client().execute(QUERY)
    assert info.value.retry_after == 600.0
    assert len(fake.calls) == 1


def test_field_level_rate_limit_in_partial_mutation_batch_is_not_resent(lib, make_client, fake):
    data = {"a0": {"didSucceed": True, "inputErrors": None}, "a1": None}
    errors = [{"message": "slow down", "path": ["a1"], "extensions": {"code": "RATE_LIMITED"}}]
    fake.queue((200, {"data": data, "errors": errors}))
    out = make_client().mutate_many(
        [
            ("a0", "invoiceApprove", {"invoiceId": "1"}, ""),
            ("a1", "invoiceApprove", {"invoiceId": "2"}, ""),
        ]
    )
    assert len(fake.calls) == 1
    assert out["a0"]["didSucceed"] is True
    assert isinstance(out["a1"], lib.WaveRateLimitedError)


def test_429_retries_are_bounded(lib, make_client, fake):
    fake.queue((429, {}, {"Retry-After": "1"}))
    with pytest.raises(lib.WaveRateLimitedError):
        make_client(max_retries=2).execute(QUERY)
    assert len(fake.calls) == 3


# -- server errors / timeouts -------------------------------------------------------------
def test_5xx_on_query_bounded_retries_full_jitter(lib, make_client, fake, sleeps, records):
    fake.queue((503, {"error": "unavailable"}))
    with pytest.raises(lib.WaveServerError) as info:
        make_client(max_retries=4, backoff_base=0.5, backoff_cap=3.0).execute(QUERY)
    assert len(fake.calls) == 5
    assert sleeps.delays == [0.5, 1.0, 2.0, 3.0]  # rng() == 1.0 -> the full cap
    assert "503" in info.value.message
    assert records[-1]["outcome"] == "error" and records[-1]["retries"] == 4


def test_backoff_uses_rng_full_jitter(make_client, fake, sleeps):
    fake.queue((500, {}), (500, {}), OK)
    make_client(rng=lambda: 0.25, backoff_base=2.0).execute(QUERY)
    assert sleeps.delays == [0.5, 1.0]


def test_internal_server_error_code_is_retried_for_queries(make_client, fake):
    fake.queue((200, gql_error("INTERNAL_SERVER_ERROR")), OK)
    make_client().execute(QUERY)
    assert len(fake.calls) == 2


def test_read_timeout_on_query_retried_then_transport_error(lib, make_client, fake):
    fake.queue(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(lib.WaveTransportError):
        make_client(max_retries=2).execute(QUERY)
    assert len(fake.calls) == 3


def test_non_json_200_is_a_server_error(lib, make_client, fake):
    fake.queue(lambda req: fake.response(req, 200, text="<html>proxy</html>"))
    with pytest.raises(lib.WaveServerError):
        make_client(max_retries=1).execute(QUERY)


# -- mutations with a lost answer ---------------------------------------------------------
@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError(
            ProtocolError("Connection aborted.", ConnectionResetError(104))
        ),
        (502, {"error": "bad gateway"}),
        (200, gql_error("INTERNAL_SERVER_ERROR")),
    ],
)
def test_lost_mutation_answer_is_outcome_unknown_and_sent_once(
    lib, make_client, fake, records, failure
):
    fake.queue(failure)
    variables = {"input": {"name": "ACME", "client_secret": "s3cr3t-value"}}
    with pytest.raises(lib.WaveOutcomeUnknownError) as info:
        make_client().execute(MUTATION, variables)
    assert len(fake.calls) == 1
    details = info.value.details
    assert details["operation"] == "CreateCustomer"
    assert details["variables"]["input"]["name"] == "ACME"
    assert details["variables"]["input"]["client_secret"] == "***"
    assert details["error"]
    assert records[-1]["outcome"] == "outcome_unknown"


def test_503_on_mutation_is_not_applied_so_not_outcome_unknown(lib, make_client, fake, records):
    """503 says Wave did not process the request: the caller may send it again later."""
    fake.queue((503, {"error": "unavailable"}))
    with pytest.raises(lib.WaveServerError) as info:
        make_client().execute(MUTATION, {"input": {"name": "ACME"}})
    assert not isinstance(info.value, lib.WaveOutcomeUnknownError)
    assert info.value.code == "HTTP_503"
    assert len(fake.calls) == 1
    assert records[-1]["outcome"] == "error"


def test_connect_timeout_on_mutation_is_retried(make_client, fake):
    ok = (200, {"data": {"customerCreate": {"didSucceed": True}}})
    fake.queue(requests.exceptions.ConnectTimeout("connect timed out"), ok)
    make_client().execute(MUTATION, {"input": {}})
    assert len(fake.calls) == 2


def _closed_port():
    """Return a loopback port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_connection_refused_is_retried_even_for_mutations(lib, tokens, sleeps):
    client = lib.WaveClient(
        f"http://127.0.0.1:{_closed_port()}/graphql/public",
        tokens,
        allow_insecure_loopback=True,
        sleep=sleeps,
        rng=lambda: 0.0,
        max_retries=3,
        timeout=(1, 1),
    )
    with pytest.raises(lib.WaveTransportError) as info:
        client.execute(MUTATION, {"input": {}})
    assert not isinstance(info.value, lib.WaveOutcomeUnknownError)
    assert info.value.code == "CONNECT_FAILED"
    assert len(sleeps.delays) == 3


# -- GraphQL errors -----------------------------------------------------------------------
def test_validation_error_is_readable_with_path(lib, make_client, fake):
    body = {
        "errors": [
            {
                "message": 'Unknown argument "name" on field "business" of type "Query".',
                "locations": [{"line": 1, "column": 12}],
                "path": ["business"],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    }
    fake.queue((400, body))
    with pytest.raises(lib.WaveValidationError) as info:
        make_client().execute(QUERY)
    text = str(info.value)
    assert 'Unknown argument "name"' in text and "at path business" in text
    assert info.value.code == "GRAPHQL_VALIDATION_FAILED"
    assert info.value.input_errors[0]["path"] == ["business"]
    assert len(fake.calls) == 1


def test_variable_value_error_is_validation(lib, make_client, fake):
    fake.queue((200, gql_error("VARIABLE_VALUE", "Variable $id got invalid value")))
    with pytest.raises(lib.WaveValidationError):
        make_client().execute(QUERY)


def test_not_found_maps(lib, make_client, fake):
    fake.queue((200, gql_error("NOT_FOUND", "Business 'BAD_ID' could not be found.", ["business"])))
    with pytest.raises(lib.WaveNotFoundError) as info:
        make_client().execute(QUERY)
    assert "BAD_ID" in info.value.message


def test_html_4xx_is_not_retried(lib, make_client, fake):
    fake.queue(lambda req: fake.response(req, 404, text="<html>nope</html>"))
    with pytest.raises(lib.WaveNotFoundError):
        make_client().execute(QUERY)
    assert len(fake.calls) == 1


def test_malformed_answer_to_mutation_is_outcome_unknown(lib, make_client, fake):
    fake.queue(lambda req: fake.response(req, 200, text='{"data": {"customerCr'))
    with pytest.raises(lib.WaveOutcomeUnknownError):
        make_client().execute(MUTATION, {"input": {}})
    assert len(fake.calls) == 1


def test_403_is_scope_error(lib, make_client, fake):
    fake.queue(
        (403, {"detail": "forbidden"}), (403, gql_error("FORBIDDEN", "Missing scope customer:read"))
    )
    with pytest.raises(lib.WaveScopeError):
        make_client().execute(QUERY)
    with pytest.raises(lib.WaveScopeError) as info:
        make_client().execute(QUERY)
    assert "Missing scope customer:read" in info.value.message
    assert len(fake.calls) == 2


# -- mutate / mutate_many -----------------------------------------------------------------
def test_mutate_input_errors_raise_validation_error(lib, make_client, fake):
    payload = {
        "didSucceed": False,
        "inputErrors": [
            {
                "code": "REQUIRED",
                "message": "Product is required",
                "path": ["input", "items", "0", "productId"],
            }
        ],
        "invoice": None,
    }
    fake.queue((200, {"data": {"invoiceCreate": payload}}))
    with pytest.raises(lib.WaveValidationError) as info:
        make_client().mutate("invoiceCreate", {"businessId": "B"}, "invoice { id }")
    assert info.value.input_errors[0]["code"] == "REQUIRED"
    assert "input.items.0.productId: Product is required" in str(info.value)
    sent = fake.calls[0]["json"]
    assert "$input: InvoiceCreateInput!" in sent["query"]
    assert "didSucceed inputErrors { code message path }" in sent["query"]
    assert sent["variables"] == {"input": {"businessId": "B"}}


def test_mutate_returns_payload(make_client, fake):
    payload = {"didSucceed": True, "inputErrors": [], "customer": {"id": "C1"}}
    fake.queue((200, {"data": {"customerCreate": payload}}))
    assert make_client().mutate("customerCreate", {"name": "x"}, "customer { id }") == payload


def test_mutate_many_one_request_per_alias_results(lib, make_client, fake):
    data = {
        "a0": {"didSucceed": True, "inputErrors": None, "invoice": {"id": "I1"}},
        "s0": {
            "didSucceed": False,
            "inputErrors": [{"code": "INVALID", "message": "bad", "path": ["input", "sendMethod"]}],
        },
        "a1": None,
    }
    errors = [{"message": "Invoice not found", "path": ["a1"], "extensions": {"code": "NOT_FOUND"}}]
    fake.queue((200, {"data": data, "errors": errors}))
    out = make_client().mutate_many(
        [
            ("a0", "invoiceApprove", {"invoiceId": "I1"}, "invoice { id }"),
            ("s0", "invoiceMarkSent", {"invoiceId": "I1", "sendMethod": "NOT_SENT"}, ""),
            ("a1", "invoiceApprove", {"invoiceId": "I2"}, "invoice { id }"),
        ]
    )
    assert len(fake.calls) == 1
    doc = fake.calls[0]["json"]["query"]
    assert doc.index("a0: invoiceApprove") < doc.index("s0: invoiceMarkSent")
    assert "$in_s0: InvoiceMarkSentInput!" in doc
    assert out["a0"]["invoice"]["id"] == "I1"
    assert isinstance(out["s0"], lib.WaveValidationError)
    assert isinstance(out["a1"], lib.WaveNotFoundError)


def test_mutate_many_rejects_bad_alias(make_client):
    with pytest.raises(ValueError):
        make_client().mutate_many([("bad alias", "invoiceApprove", {}, "")])


# -- lookup_many / iterate ----------------------------------------------------------------
def _lookup_reply(missing=()):
    """Reply to an aliased look-up: echo ids, NOT_FOUND for ``missing``."""

    def reply(request):
        import json

        body = json.loads(request.body)
        variables = body["variables"]
        business, errors = {}, []
        for key, value in variables.items():
            if not key.startswith("id"):
                continue
            alias = "i" + key[2:]
            if value in missing:
                business[alias] = None
                errors.append(
                    {
                        "message": f"Invoice {value} not found",
                        "path": ["business", alias],
                        "extensions": {"code": "NOT_FOUND"},
                    }
                )
            else:
                business[alias] = {"id": value}
        out = {"data": {"business": business}}
        if errors:
            out["errors"] = errors
        return (200, out)

    return reply


def test_lookup_many_chunks_and_partial_not_found(make_client, fake):
    fake.queue(_lookup_reply(missing={"id-7"}))
    ids = [f"id-{i}" for i in range(120)] + ["id-3"]
    found = make_client().lookup_many("BIZ", "invoice", ids, "id", chunk_size=50)
    assert len(fake.calls) == 3
    assert found["id-7"] is None and found["id-8"] == {"id": "id-8"}
    assert len(found) == 120


def test_lookup_many_uses_variables_not_interpolation(make_client, fake):
    fake.queue(_lookup_reply())
    nasty = 'x") { id } evil: user { id } #'
    found = make_client().lookup_many("BIZ", "invoice", [nasty], "id")
    sent = fake.calls[0]["json"]
    assert nasty not in sent["query"]
    assert sent["variables"] == {"businessId": "BIZ", "id0": nasty}
    assert "i0: invoice(id: $id0) { id }" in sent["query"]
    assert found == {nasty: {"id": nasty}}


def test_lookup_many_other_errors_raise(lib, make_client, fake):
    fake.queue((200, gql_error("NOT_FOUND", "Business not found", ["business"])))
    with pytest.raises(lib.WaveNotFoundError):
        make_client().lookup_many("BAD", "invoice", ["a"], "id")


def _page_reply(total, page_size_key="pageSize", with_total=True):
    """Reply with a page of a ``total``-item connection."""

    def reply(request):
        import json

        variables = json.loads(request.body)["variables"]
        page, size = variables["page"], variables[page_size_key]
        start = (page - 1) * size
        nodes = [{"id": n} for n in range(start, min(total, start + size))]
        info = {"currentPage": page}
        if with_total:
            info.update(totalPages=-(-total // size), totalCount=total)
        body = {
            "data": {
                "business": {"invoices": {"edges": [{"node": n} for n in nodes], "pageInfo": info}}
            }
        }
        return (200, body)

    return reply


def test_iterate_is_lazy_one_request_per_page(make_client, fake):
    fake.queue(_page_reply(23))
    query = (
        "query L($page: Int!, $pageSize: Int!) { business { invoices(page: $page, "
        "pageSize: $pageSize) { edges { node { id } } pageInfo { totalPages } } } }"
    )
    gen = make_client().iterate(query, {}, "business.invoices", page_size=10)
    assert fake.calls == []
    assert next(gen) == {"id": 0}
    assert len(fake.calls) == 1
    rest = list(gen)
    assert len(rest) == 22 and rest[-1] == {"id": 22}
    assert len(fake.calls) == 3
    assert [c["json"]["variables"]["page"] for c in fake.calls] == [1, 2, 3]


def test_iterate_without_total_pages_stops_on_empty_page(make_client, fake):
    fake.queue(_page_reply(20, with_total=False))
    nodes = list(make_client().iterate("query { x }", None, ["business", "invoices"], page_size=10))
    assert len(nodes) == 20 and len(fake.calls) == 3


# -- redaction ----------------------------------------------------------------------------
def test_logger_and_caplog_never_contain_secrets(make_client, fake, records, caplog):
    caplog.set_level(logging.DEBUG)
    fake.queue((200, gql_error("UNAUTHENTICATED")), (503, {}), OK)
    variables = {
        "refresh_token": "rt-SECRET",
        "nested": {"password": "pw-SECRET"},
        "code": "auth-code-SECRET",
        "name": "visible",
    }
    make_client().execute(QUERY, variables)
    record = records[-1]
    assert set(record) >= {
        "operation_name",
        "kind",
        "variables",
        "duration_ms",
        "http_status",
        "error_codes",
        "retries",
        "outcome",
    }
    assert record["variables"]["name"] == "visible"
    blob = repr(records) + caplog.text
    for secret in ("access-token-1", "access-token-2", "SECRET", "Bearer access"):
        assert secret not in blob
    assert record["error_codes"] == [] and record["http_status"] == 200


def test_request_logger_failure_does_not_break_requests(make_client, fake):
    def broken(_record):
        raise RuntimeError("logger down")

    fake.queue(OK)
    assert make_client(request_logger=broken).execute(QUERY)


def test_redact_function(lib):
    data = {
        "Authorization": "Bearer abc.def",
        "client_secret": "x",
        "list": [{"access_token": "t", "ok": 1}],
        "webhook_secret": "w",
        "code": "c",
        "countryCode": "CA",
        "message": "header was Bearer abc.def",
    }
    out = lib.redact(data)
    assert out["Authorization"] == "***" and out["client_secret"] == "***"
    assert out["list"] == [{"access_token": "***", "ok": 1}]
    assert out["webhook_secret"] == "***" and out["code"] == "***"
    assert out["countryCode"] == "CA"
    assert out["message"] == "header was Bearer ***"
    assert data["client_secret"] == "x"


def test_missing_token_fails_before_sending(lib, make_client, fake, tokens):
    tokens.tokens[0] = ""
    fake.queue(OK)
    with pytest.raises(lib.WaveAuthenticationError):
        make_client().execute(QUERY)
    assert fake.calls == []
