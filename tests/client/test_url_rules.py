"""The endpoint rule (HTTPS, or HTTP to a literal loopback address) and redirects.

Two parts:

* a table of tricky URLs with the expected verdict, checked through
  ``check_endpoint`` (the Odoo constraint), ``WaveClient`` and the OAuth token
  helpers (which must refuse before sending anything, or, when the URL is
  accepted, send exactly to the host the rule approved);
* real HTTP listeners on loopback that record every connection and request: a
  first one answers with redirects to a second one, and the second one must
  receive nothing (no request, so no token and no client secret).

No traffic ever leaves loopback: "another host" is simulated by another
loopback address (127.0.0.2), the name ``localhost``, or a number form such as
``2130706433`` that the old rule did not recognise as loopback while the
resolver connects it to 127.0.0.1.
"""

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
from urllib3.util import parse_url

# The attack table's counter (a plain module of the addon's tests, loaded by path:
# these tests run without Odoo).
_TALLY_PATH = (
    Path(__file__).resolve().parents[2] / "wave_accounting_integration/tests/security_tally.py"
)
_spec = importlib.util.spec_from_file_location("wave_security_tally", _TALLY_PATH)
tally = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tally)


@pytest.fixture(scope="module", autouse=True)
def _flush_tally():
    yield
    tally.flush()


QUERY = "query GetUser { user { id } }"
MUTATION = (
    "mutation CreateCustomer($input: CustomerCreateInput!) "
    "{ customerCreate(input: $input) { didSucceed } }"
)
TOKEN = "access-token-1"
SECRET = "client-secret-XYZ"
REFRESH = "refresh-token-ABC"
CODE = "auth-code-123"

# -- the table ----------------------------------------------------------------------------
#: (url, allow_insecure_loopback, accepted)
URL_TABLE = [
    # accepted
    ("https://gql.waveapps.com/graphql/public", False, True),
    ("https://gql.waveapps.com/graphql/public", True, True),
    ("HTTPS://Gql.WaveApps.com/graphql/public", False, True),
    ("https://gql.waveapps.com:8443/graphql/public?x=1", False, True),
    ("https://api.waveapps.com/oauth2/token/", False, True),
    ("https://1.2.3.4/graphql", False, True),
    ("https://[2001:db8::1]/graphql", False, True),
    ("https://127.0.0.1.nip.io/graphql", False, True),
    ("http://127.0.0.1:8765/graphql/public", True, True),
    ("HTTP://127.0.0.1:8765/graphql/public", True, True),
    ("http://127.9.9.9/graphql/public", True, True),
    ("http://localhost:8765/graphql/public", True, True),
    ("http://LocalHost:8765/graphql/public", True, True),
    ("http://[::1]:8765/graphql/public", True, True),
    ("http://127.0.0.1:65535/graphql", True, True),
    # plain HTTP without the switch, or to a host that is not a literal loopback
    ("http://127.0.0.1:8765/graphql/public", False, False),
    ("http://[::1]:8765/graphql/public", False, False),
    ("http://gql.waveapps.com/graphql/public", True, False),
    ("http://10.0.0.1/graphql", True, False),
    ("http://localhost.evil.example/graphql", True, False),
    ("http://127.0.0.1.nip.io/graphql", True, False),
    ("http://localhost./graphql", True, False),
    ("http://127.0.0.1./graphql", True, False),
    ("https://gql.waveapps.com./graphql/public", False, False),
    # backslashes: urllib3 and urlsplit disagree on the host
    ("http://127.0.0.1\\@evil.example/graphql", True, False),
    ("http://evil.example\\@127.0.0.1/graphql", True, False),
    ("https://gql.waveapps.com\\@127.0.0.1/graphql", False, False),
    ("http://127.0.0.1/graphql\\x", True, False),
    # user name / password in the URL
    ("http://user:pass@127.0.0.1/graphql", True, False),
    ("https://user@gql.waveapps.com/graphql", False, False),
    ("http://127.0.0.1%2f@evil.example/graphql", True, False),
    ("https://evil.example@gql.waveapps.com/graphql", False, False),
    # non-canonical IPv4 forms
    ("http://2130706433/graphql", True, False),
    ("http://0177.0.0.1/graphql", True, False),
    ("http://0x7f.0.0.1/graphql", True, False),
    ("http://0x7f000001/graphql", True, False),
    ("http://127.1/graphql", True, False),
    ("http://127.000.000.001/graphql", True, False),
    ("https://2130706433/graphql", False, False),
    ("https://example.123/graphql", False, False),
    # IPv6 forms
    ("http://[::ffff:127.0.0.1]/graphql", True, False),
    ("http://[0:0:0:0:0:0:0:1]/graphql", True, False),
    ("http://[::1%25lo]/graphql", True, False),
    ("http://::1/graphql", True, False),
    # whitespace, control characters, non-ASCII
    ("http://127.0.0.1 /graphql", True, False),
    (" https://gql.waveapps.com/graphql/public", False, False),
    ("https://gql.waveapps.com/graphql/public\n", False, False),
    ("https://gql.waveapps.com/graph ql", False, False),
    ("http://127.0.0.1\t/graphql", True, False),
    ("https://gql.waveapps.com\x00.evil.example/graphql", False, False),
    ("https://b\u00fccher.example/graphql", False, False),
    # ports
    ("http://127.0.0.1:0/graphql", True, False),
    ("http://127.0.0.1:65536/graphql", True, False),
    ("http://127.0.0.1:99999/graphql", True, False),
    ("http://127.0.0.1:080/graphql", True, False),
    ("http://127.0.0.1:/graphql", True, False),
    ("http://127.0.0.1:+80/graphql", True, False),
    ("https://gql.waveapps.com:-1/graphql", False, False),
    # empty or malformed
    ("", True, False),
    (None, True, False),
    ("https://", False, False),
    ("http:///graphql", True, False),
    ("http://:8765/graphql", True, False),
    ("https://a..b/graphql", False, False),
    ("https://-a.example/graphql", False, False),
    ("http:127.0.0.1/graphql", True, False),
    ("//127.0.0.1/graphql", True, False),
    ("gql.waveapps.com/graphql/public", False, False),
    ("ftp://127.0.0.1/graphql", True, False),
    ("javascript://127.0.0.1/graphql", True, False),
    # fragments
    ("http://127.0.0.1/graphql#x", True, False),
    ("https://gql.waveapps.com/graphql/public#", False, False),
]
TABLE_IDS = [
    f"{'ok' if ok else 'no'}-{'sw' if allow else 'nosw'}-{url!r}" for url, allow, ok in URL_TABLE
]


@pytest.mark.parametrize("url,allow,accepted", URL_TABLE, ids=TABLE_IDS)
def test_check_endpoint_verdicts(lib, url, allow, accepted):
    from wave_client_lib.urls import check_endpoint

    error = check_endpoint(url, allow, "Wave API")
    if accepted:
        assert error is None
        return
    assert isinstance(error, str) and "Wave API" in error
    assert "Traceback" not in error and len(error) < 400


@pytest.mark.parametrize("url,allow,accepted", URL_TABLE, ids=TABLE_IDS)
def test_client_sends_only_where_the_rule_allows(lib, fake, tokens, url, allow, accepted):
    """WaveClient: refused URLs send nothing; accepted ones go to the approved host."""
    fake.queue((200, {"data": {"user": {"id": "1"}}}))
    if not accepted:
        error = _outcome(
            lambda: lib.WaveClient(url, tokens, allow_insecure_loopback=allow, session=fake.session)
        )
        refused = isinstance(error, lib.WaveConfigurationError)
        sent = bool(fake.calls) or tokens.gets > 0
        outcome = "leak" if sent else ("refused" if refused else "server_error")
        tally.record("endpoint URL tricks (backslash, userinfo, IP forms, http)", outcome)
        assert refused and error.code == "HTTPS_REQUIRED", error
        assert fake.calls == [] and tokens.gets == 0
        return
    client = lib.WaveClient(url, tokens, allow_insecure_loopback=allow, session=fake.session)
    client.execute(QUERY)
    sent = parse_url(fake.calls[0]["request"].url)
    approved = parse_url(url)
    assert (sent.scheme, sent.host, sent.port) == (approved.scheme, approved.host, approved.port)
    assert sent.scheme == "https" or sent.host in ("127.0.0.1", "127.9.9.9", "localhost", "[::1]")


REFUSED = [(url, allow) for url, allow, accepted in URL_TABLE if not accepted]


@pytest.mark.parametrize("url,allow", REFUSED, ids=[repr(url) for url, _allow in REFUSED])
def test_token_helpers_refuse_before_sending(lib, fake, url, allow):
    """exchange_code / refresh_token: a refused URL never sees the client secret."""
    fake.queue((200, {"access_token": "AT"}))
    with pytest.raises(lib.WaveConfigurationError):
        lib.exchange_code(
            url, "cid", SECRET, CODE, None, session=fake.session, allow_insecure_loopback=allow
        )
    with pytest.raises(lib.WaveConfigurationError):
        lib.refresh_token(
            url, "cid", SECRET, REFRESH, session=fake.session, allow_insecure_loopback=allow
        )
    assert fake.calls == []


def test_messages_are_plain_words(lib):
    from wave_client_lib.urls import check_endpoint

    cases = {
        "http://user:pass@127.0.0.1/graphql": "user name or password",
        "http://127.0.0.1\\@evil.example/graphql": "backslashes",
        "http://2130706433/graphql": "four decimal numbers",
        "http://127.0.0.1:0/graphql": "1 to 65535",
        "http://127.0.0.1/graphql#x": "fragment",
        "http://localhost.evil.example/graphql": "must use HTTPS",
        "http://[::ffff:127.0.0.1]/graphql": "IPv4 addresses written as IPv6",
        "https://gql.waveapps.com./graphql": "trailing dot",
    }
    for url, words in cases.items():
        assert words in check_endpoint(url, True), url
    assert "Allow HTTP to a local test server" in check_endpoint("http://127.0.0.1/", False)


# -- recording listeners ------------------------------------------------------------------
class Listener:
    """An HTTP server on a loopback address that records connections and requests.

    ``routes`` maps a path to ``(status, headers, body)``; other paths answer
    200 with ``default`` (a JSON dict). Every accepted TCP connection is
    counted, even one that never becomes a readable HTTP request (a TLS
    handshake, for instance).
    """

    def __init__(self, host="127.0.0.1", default=None):
        self.connections = 0
        self.requests = []
        self.routes = {}
        self.default = default or {"data": {"user": {"id": "1"}}}
        self._lock = threading.Lock()
        self.server = self._make_server(host)
        self.host, self.port = self.server.server_address[:2]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path="/graphql/public", host=None):
        return f"http://{host or self.host}:{self.port}{path}"

    def _make_server(self, host):
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with listener._lock:
                    listener.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body.decode("utf-8", "replace"),
                        }
                    )
                status, headers, payload = listener.routes.get(
                    self.path, (200, {}, listener.default)
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args):
                """Keep test output quiet."""

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                connection = super().get_request()
                with listener._lock:
                    listener.connections += 1
                return connection

        return Server((host, 0), Handler)

    def received(self):
        """Everything this listener saw, for assertion messages."""
        return {"connections": self.connections, "requests": self.requests}

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def listeners():
    """Factory of recording listeners, all stopped at the end of the test."""
    started = []

    def make(host="127.0.0.1", default=None):
        listener = Listener(host, default)
        started.append(listener)
        return listener

    yield make
    for listener in started:
        listener.close()


REDIRECT_STATUSES = [301, 302, 303, 307, 308]
#: Where the first listener sends the client: (name, second listener's address, Location).
TARGETS = [
    ("http-127.0.0.2", "127.0.0.2", "http://127.0.0.2:{port}/graphql/public"),
    ("http-localhost", "127.0.0.1", "http://localhost:{port}/graphql/public"),
    ("http-decimal-ip", "127.0.0.1", "http://2130706433:{port}/graphql/public"),
    ("http-same-host-other-port", "127.0.0.1", "http://127.0.0.1:{port}/graphql/public"),
    ("https-localhost", "127.0.0.1", "https://localhost:{port}/graphql/public"),
]
SAME_ORIGIN = ("same-origin-path", None, "/moved")


def _redirecting_pair(listeners, status, target, default=None):
    """Return (first, second, first_url): first answers ``status`` towards second."""
    _name, second_host, location = target
    first = listeners(default=default)
    second = listeners(second_host, default=default) if second_host else first
    first.routes["/start"] = (status, {"Location": location.format(port=second.port)}, {})
    return first, second, first.url("/start")


def _assert_nothing_followed(first, second, target):
    if second is first:
        followed = [r["path"] for r in first.requests] != ["/start"]
    else:
        followed = second.connections != 0 or second.requests != [] or len(first.requests) != 1
    tally.record(
        "redirect with credentials (301/302/303/307/308)", "leak" if followed else "refused"
    )
    if second is first:
        # same origin: the single request is the one to /start, nothing to /moved
        assert [r["path"] for r in first.requests] == ["/start"], first.received()
    else:
        assert second.connections == 0 and second.requests == [], second.received()
        assert len(first.requests) == 1, first.received()


def _outcome(action):
    """Run ``action``; return the exception it raised, or None (asserted on later,
    after the listeners were checked, so that a leak is what a failure reports)."""
    try:
        action()
    except Exception as exc:  # the test inspects whatever was raised
        return exc
    return None


def _assert_redirect_error(lib, error, status):
    assert isinstance(error, lib.WaveConfigurationError)
    assert error.code == "REDIRECT_REFUSED"
    assert f"redirect (HTTP {status})" in error.message and "not followed" in error.message
    assert SECRET not in str(error) and TOKEN not in str(error) and REFRESH not in str(error)


@pytest.mark.parametrize("target", [*TARGETS, SAME_ORIGIN], ids=lambda t: t[0])
@pytest.mark.parametrize("status", REDIRECT_STATUSES)
def test_graphql_redirect_is_not_followed(lib, listeners, tokens, sleeps, status, target):
    first, second, url = _redirecting_pair(listeners, status, target)
    client = lib.WaveClient(
        url, tokens, allow_insecure_loopback=True, sleep=sleeps, timeout=(2, 5), max_retries=3
    )
    with client:
        error = _outcome(lambda: client.execute(QUERY))
    _assert_nothing_followed(first, second, target)
    _assert_redirect_error(lib, error, status)
    assert first.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert sleeps.delays == [] and tokens.refreshes == 0  # not retried


@pytest.mark.parametrize("status", [307, 308])
def test_mutation_redirect_is_not_followed_nor_retried(lib, listeners, tokens, sleeps, status):
    first, second, url = _redirecting_pair(listeners, status, TARGETS[0])
    with lib.WaveClient(url, tokens, allow_insecure_loopback=True, sleep=sleeps) as client:
        error = _outcome(
            lambda: client.mutate("customerCreate", {"name": "A"}, input_type="CustomerInput")
        )
    _assert_nothing_followed(first, second, TARGETS[0])
    _assert_redirect_error(lib, error, status)
    assert sleeps.delays == []


TOKEN_ANSWER = {"access_token": "AT-new", "refresh_token": "RT-new", "expires_in": 3600}


@pytest.mark.parametrize("target", [*TARGETS, SAME_ORIGIN], ids=lambda t: t[0])
@pytest.mark.parametrize("status", REDIRECT_STATUSES)
@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
def test_token_redirect_is_not_followed(lib, listeners, grant, status, target):
    first, second, url = _redirecting_pair(listeners, status, target, default=TOKEN_ANSWER)
    if grant == "authorization_code":
        error = _outcome(
            lambda: lib.exchange_code(url, "cid", SECRET, CODE, None, allow_insecure_loopback=True)
        )
    else:
        error = _outcome(
            lambda: lib.refresh_token(url, "cid", SECRET, REFRESH, allow_insecure_loopback=True)
        )
    _assert_nothing_followed(first, second, target)
    _assert_redirect_error(lib, error, status)
    sent = parse_qs(first.requests[0]["body"])
    assert sent["client_secret"] == [SECRET] and sent["grant_type"] == [grant]


def test_token_redirect_through_a_session(lib, listeners):
    """A caller's session (keep-alive, e.g. the token provider's) does not follow either."""
    first, second, url = _redirecting_pair(listeners, 307, TARGETS[0], default=TOKEN_ANSWER)
    with requests.Session() as session:
        error = _outcome(
            lambda: lib.refresh_token(
                url, "cid", SECRET, REFRESH, session=session, allow_insecure_loopback=True
            )
        )
    _assert_nothing_followed(first, second, TARGETS[0])
    _assert_redirect_error(lib, error, 307)


def test_loopback_listener_works_without_redirect(lib, listeners, tokens):
    """Positive control: the same listeners do receive an allowed request."""
    listener = listeners(default=TOKEN_ANSWER)
    listener.default = {"data": {"user": {"id": "1"}}}
    with lib.WaveClient(listener.url(), tokens, allow_insecure_loopback=True) as client:
        assert client.execute(QUERY) == {"user": {"id": "1"}}
    listener.default = TOKEN_ANSWER
    answer = lib.refresh_token(
        listener.url("/oauth2/token/"), "cid", SECRET, REFRESH, allow_insecure_loopback=True
    )
    assert answer.access_token == "AT-new"
    assert [r["method"] for r in listener.requests] == ["POST", "POST"]
    assert listener.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


# -- backslash: the host the old rule checked is not the one requests connects to --------
#: ``{p1}`` is the listener the rule would see (urlsplit), ``{p2}`` the one requests/urllib3
#: connects to. 2130706433 and 127.1 are 127.0.0.1 for the resolver, but were "not
#: loopback" for the old rule: they stand for a remote host without leaving loopback.
BACKSLASH_URLS = [
    "http://2130706433:{p2}\\@127.0.0.1:{p1}/graphql/public",
    "http://127.1:{p2}\\@127.0.0.1:{p1}/graphql/public",
    "http://127.0.0.1:{p2}\\@localhost:{p1}/graphql/public",
    "http://127.0.0.1:{p2}\\x@127.0.0.1:{p1}/graphql/public",
]


@pytest.mark.parametrize("template", BACKSLASH_URLS)
def test_backslash_url_sends_nothing_anywhere(lib, listeners, tokens, template):
    seen_by_rule = listeners()
    connected_by_requests = listeners(default=TOKEN_ANSWER)
    url = template.format(p1=seen_by_rule.port, p2=connected_by_requests.port)
    assert parse_url(url).port == connected_by_requests.port  # what requests would do

    def use_client():
        with lib.WaveClient(url, tokens, allow_insecure_loopback=True, max_retries=0) as client:
            client.execute(QUERY)

    errors = [
        _outcome(use_client),
        _outcome(
            lambda: lib.refresh_token(url, "c", SECRET, REFRESH, allow_insecure_loopback=True)
        ),
        _outcome(
            lambda: lib.exchange_code(url, "c", SECRET, CODE, None, allow_insecure_loopback=True)
        ),
    ]
    for listener in (seen_by_rule, connected_by_requests):
        assert listener.connections == 0 and listener.requests == [], listener.received()
    for error in errors:
        assert isinstance(error, lib.WaveConfigurationError) and error.code == "HTTPS_REQUIRED"
        assert "backslash" in error.message
