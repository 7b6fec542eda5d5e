"""HTTP layer: a WSGI application on werkzeug's stack, rate limit and faults.

Routing is a werkzeug ``Map`` (here and in ``admin.py``), requests and answers are
werkzeug ``Request``/``Response`` objects, and the server is werkzeug's threaded
WSGI server (``make_server(threaded=True)``) speaking HTTP/1.1 with keep-alive.
:class:`SandboxServer` runs it in a background thread and stops it: the listening
socket closed, every open connection shut down, the connection threads joined.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import socket
import threading
import time
from collections import deque

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import oauth
from .gql import UNAUTHENTICATED_MESSAGE, Prepared, error
from .resolvers import Ctx

_logger = logging.getLogger("wave_sandbox")


class RateLimiter:
    """Sliding window per token.  ``limit`` 0 disables it.  (Assumption: Wave publishes none.)"""

    def __init__(self, limit=60, window=60.0):
        self.limit, self.window = limit, float(window)
        self.hits: dict[str, deque] = {}
        self.lock = threading.Lock()

    def check(self, key: str):
        """Return (allowed, headers)."""
        if not self.limit:
            return True, {}
        now = time.time()
        with self.lock:
            q = self.hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            allowed = len(q) < self.limit
            if allowed:
                q.append(now)
            reset = (q[0] + self.window) if q else now + self.window
            headers = {
                "X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(max(self.limit - len(q), 0)),
                "X-RateLimit-Reset": str(math.ceil(reset)),
            }
            if not allowed:
                headers["Retry-After"] = str(max(math.ceil(reset - now), 1))
            return allowed, headers

    def reset(self):
        with self.lock:
            self.hits.clear()


class Counters:
    """Request counters per root field ("operation"), per operationName and per token."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.total = 0
        self.by_operation: dict[str, int] = {}
        self.by_operation_name: dict[str, int] = {}
        self.by_token: dict[str, int] = {}
        self.by_status: dict[str, int] = {}
        # The journal: one entry per GraphQL request and per OAuth token grant, with its
        # time, so that a test counts requests per token per window on Wave's side.
        self.journal: list[dict] = []

    def record(self, kind, key, status, refused=None, **facts):
        """Journal ``kind`` ("graphql" or "grant:<grant_type>") for ``key`` (a token);
        ``refused``: the error code of a GraphQL request refused with a 200 answer
        (``UNAUTHENTICATED``: an unknown, expired or revoked token). ``facts``: when the
        request arrived (``arrived``, Unix time; ``t`` is when it was answered), the
        OAuth client of its token (``client``), a digest of its body (``body``: a retry
        sends the same) and the ``Retry-After`` of a 429 (``retry_after``, seconds)."""
        entry = {"t": time.time(), "kind": kind, "key": key, "status": status}
        if refused:
            entry["refused"] = refused
        entry.update((name, value) for name, value in facts.items() if value is not None)
        with self.lock:
            self.journal.append(entry)

    def journal_since(self, since=0.0):
        with self.lock:
            return [entry for entry in self.journal if entry["t"] >= since]

    def add(self, token, roots, op_name):
        with self.lock:
            self.total += 1
            for r in roots:
                self.by_operation[r] = self.by_operation.get(r, 0) + 1
            key = op_name or "(anonymous)"
            self.by_operation_name[key] = self.by_operation_name.get(key, 0) + 1
            self.by_token[token] = self.by_token.get(token, 0) + 1

    def status(self, code):
        with self.lock:
            self.by_status[str(code)] = self.by_status.get(str(code), 0) + 1

    def as_dict(self):
        with self.lock:
            return {
                "total": self.total,
                "by_operation": dict(self.by_operation),
                "by_operation_name": dict(self.by_operation_name),
                "by_token": dict(self.by_token),
                "by_status": dict(self.by_status),
            }


class DropConnection(Exception):
    """Close the client socket without writing a response."""


def json_response(status, payload, headers=None):
    return Response(
        json.dumps(payload, default=str),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def raw_response(status, headers, body: bytes):
    """A ``(status, headers, body)`` triple (``oauth.py``'s answers) as a Response."""
    return Response(body, status=status, headers=headers)


# Each public path with and without its trailing slash, as Wave accepts both.
URLS = Map(
    [
        Rule("/", endpoint="index"),
        Rule("/graphql/public", endpoint="graphql"),
        Rule("/graphql/public/", endpoint="graphql"),
        Rule("/oauth2/authorize", endpoint="authorize"),
        Rule("/oauth2/authorize/", endpoint="authorize"),
        Rule("/oauth2/token", endpoint="token"),
        Rule("/oauth2/token/", endpoint="token"),
        Rule("/sandbox/", endpoint="admin"),
        Rule("/sandbox/<path:route>", endpoint="admin"),
    ],
    strict_slashes=False,
)


class SandboxApp:
    """The WSGI application: routing, then the GraphQL, OAuth or admin endpoint."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def __call__(self, environ, start_response):
        arrived = time.time()
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except DropConnection:
            self.sandbox.counters.status("dropped")
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # werkzeug's request handler takes a ConnectionError as a dropped
            # connection: nothing is written, the connection ends.
            raise ConnectionAbortedError("sandbox fault: connection dropped") from None
        # Read what the endpoint left of the body, so that the next request of a
        # kept-alive connection starts at its request line.
        while request.stream.read(65536):
            pass
        self.sandbox.counters.status(response.status_code)
        journal = request.environ.get("wave_sandbox.journal")
        if journal:
            limited = response.status_code == 429
            retry_after = response.headers.get("Retry-After") if limited else None
            self.sandbox.counters.record(
                *journal,
                response.status_code,
                request.environ.get("wave_sandbox.refused"),
                arrived=arrived,
                client=request.environ.get("wave_sandbox.client"),
                body=request.environ.get("wave_sandbox.body"),
                retry_after=float(retry_after) if retry_after else None,
            )
        return response(environ, start_response)

    def dispatch(self, request):
        adapter = URLS.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            return json_response(404, {"error": "not found"})
        if endpoint == "index":
            return json_response(200, {"service": "wave-sandbox", "graphql": "/graphql/public"})
        if endpoint == "graphql":
            if request.method != "POST":
                return json_response(405, {"errors": [error("Use POST.", "BAD_REQUEST")]})
            return self.graphql(request)
        if endpoint == "authorize":
            params = request.args.to_dict()
            if request.method == "POST":
                params.update(request.form.to_dict())
            return raw_response(*oauth.authorize(self.sandbox, request.method, params))
        if endpoint == "token":
            if request.method != "POST":
                return raw_response(*oauth.oauth_error("invalid_request", "Use POST.", 405))
            auth = request.authorization
            basic = (auth.username, auth.password) if auth and auth.type == "basic" else None
            form = request.form.to_dict()
            client = basic[0] if basic else form.get("client_id")
            request.environ["wave_sandbox.journal"] = (f"grant:{form.get('grant_type')}", client)
            return raw_response(*oauth.token(self.sandbox, form, basic))
        return self.sandbox.admin.handle(request, args.get("route", ""))

    # GraphQL ----------------------------------------------------------------------
    def graphql(self, request):
        sb = self.sandbox
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return json_response(
                400,
                {
                    "errors": [
                        error(
                            "POST body must be a JSON object with a 'query' string.", "BAD_REQUEST"
                        )
                    ]
                },
            )
        auth = request.headers.get("Authorization", "")
        token_str = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        token = sb.state.tokens.get(token_str)
        prepared = sb.executor.prepare(body["query"])
        op_name = body.get("operationName")
        roots, label = [], op_name
        if isinstance(prepared, Prepared):
            roots = prepared.roots.get(op_name, [])
            if not roots and op_name is None and len(prepared.roots) == 1:
                label, roots = next(iter(prepared.roots.items()))
        sb.counters.add(token_str or "(none)", roots, label)
        request.environ["wave_sandbox.journal"] = ("graphql", token_str or "(none)")
        request.environ["wave_sandbox.client"] = token.client_id if token else None
        request.environ["wave_sandbox.body"] = hashlib.sha1(request.get_data()).hexdigest()[:16]
        if token is None or not token.valid(time.time()):
            request.environ["wave_sandbox.refused"] = "UNAUTHENTICATED"
            return json_response(
                200, {"errors": [error(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")], "data": None}
            )
        allowed, rl_headers = sb.rate_limiter.check(token_str)
        if not allowed:
            return self._rate_limited(rl_headers)
        fault = None
        if request.headers.get("X-Sandbox-Admin-Token") != sb.admin_token:
            # A test driver's own GraphQL calls (admin header) are never faulted.
            fault = sb.faults.pick(set(roots) | ({label} if label else set()))
        post = None
        if fault is not None:
            kind = fault.kind
            if kind == "http_error":
                return json_response(
                    fault.status,
                    {"errors": [error("Sandbox injected server error.", "INTERNAL_SERVER_ERROR")]},
                )
            if kind == "hang":
                sb.stopping.wait(fault.delay)
                raise DropConnection
            if kind == "rate_limit":
                return self._rate_limited(
                    {
                        "Retry-After": str(fault.retry_after),
                        "X-RateLimit-Limit": str(sb.rate_limiter.limit),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": str(int(time.time()) + fault.retry_after),
                    }
                )
            if kind == "revoke_token":
                token.revoked = True
                return json_response(
                    200,
                    {"errors": [error(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")], "data": None},
                )
            if kind == "slow":
                sb.stopping.wait(fault.delay)
            post = kind
        if not isinstance(prepared, Prepared):
            result = prepared
        else:
            variables = body.get("variables")
            if variables is not None and not isinstance(variables, dict):
                result = {"errors": [error("variables must be an object.", "BAD_REQUEST")]}
            else:
                ctx = Ctx(sb.state, token, sb.max_page_size)
                with sb.state.lock:
                    result = sb.executor.run(prepared, variables, op_name, ctx)
        if post == "drop_after":
            raise DropConnection
        payload = json.dumps(result, separators=(",", ":"), check_circular=False).encode()
        if post == "malformed":
            payload = payload[: max(len(payload) // 2, 1)]
        return Response(payload, status=200, headers=rl_headers, content_type="application/json")

    def _rate_limited(self, headers):
        return json_response(
            429,
            {
                "errors": [
                    {
                        "message": "Too many requests: rate limit exceeded.",
                        "extensions": {"code": "RATE_LIMITED"},
                    }
                ]
            },
            headers,
        )


class SandboxRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, with keep-alive, TCP_NODELAY and connection tracking."""

    protocol_version = "HTTP/1.1"

    @property
    def server_version(self):
        return "WaveSandbox/1.0"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.sandbox_server.opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.sandbox_server.closed(self.connection)

    def send_header(self, keyword, value):
        # werkzeug's handler ends every connection after one answer (it cannot be
        # sure the application read the whole body; SandboxApp does). Keep the
        # connection open unless the client asked to close it.
        if keyword.lower() == "connection" and value.lower() == "close":
            if not self.close_connection:
                return
        super().send_header(keyword, value)

    def connection_dropped(self, error, environ=None):
        self.close_connection = True

    def log_request(self, code="-", size="-"):  # quiet: the counters keep the statuses
        pass

    def log(self, type, message, *args):
        if type == "error":
            _logger.error(message.rstrip(), *args)


class SandboxServer:
    """werkzeug's threaded WSGI server in a background thread, with a clean stop."""

    POLL_INTERVAL = 0.2

    def __init__(self, sandbox, host, port):
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self.httpd = make_server(
            host, port, SandboxApp(sandbox), threaded=True, request_handler=SandboxRequestHandler
        )
        self.httpd.sandbox_server = self
        self.httpd.log = self._log  # an application error: the sandbox's logger, not werkzeug's
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": self.POLL_INTERVAL},
            name="wave-sandbox-http",
            daemon=True,
        )

    def start(self):
        self.thread.start()
        return self

    @staticmethod
    def _log(type, message, *args):
        if type == "error":
            _logger.error(message.rstrip(), *args)

    def opened(self, connection):
        with self._lock:
            self._connections[connection] = threading.current_thread()

    def closed(self, connection):
        with self._lock:
            self._connections.pop(connection, None)

    def stop(self, timeout=1.0):
        """Stop accepting, end every open connection, wait for their threads."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout)
        with self._lock:
            connections = dict(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)  # wakes a thread waiting on keep-alive
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(deadline - time.monotonic(), 0))
