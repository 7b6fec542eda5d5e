"""HTTP layer: GraphQL endpoint, OAuth endpoints, admin API routing, rate limit and faults."""

from __future__ import annotations

import base64
import json
import math
import socket
import threading
import time
import urllib.parse
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import oauth
from .gql import UNAUTHENTICATED_MESSAGE, Prepared, error
from .resolvers import Ctx


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WaveSandbox/1.0"
    sandbox = None  # set per server subclass

    def log_message(self, *_args):  # quiet
        pass

    # plumbing -------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status, headers, body: bytes):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        # headers and body in one write (avoids Nagle/delayed-ACK stalls on keep-alive)
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()
        self.sandbox.counters.status(status)

    def send_json(self, status, payload, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.send(status, h, json.dumps(payload, default=str).encode())

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sandbox.counters.status("dropped")

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        try:
            if path in ("/graphql/public", "/graphql/public/"):
                if method != "POST":
                    return self.send_json(405, {"errors": [error("Use POST.", "BAD_REQUEST")]})
                return self.graphql()
            if path in ("/oauth2/authorize/", "/oauth2/authorize"):
                params = dict(urllib.parse.parse_qsl(url.query))
                if method == "POST":
                    params.update(urllib.parse.parse_qsl(self._body().decode()))
                return self.send(*oauth.authorize(self.sandbox, method, params))
            if path in ("/oauth2/token/", "/oauth2/token"):
                if method != "POST":
                    return self.send(*oauth.oauth_error("invalid_request", "Use POST.", 405))
                params = dict(urllib.parse.parse_qsl(self._body().decode()))
                return self.send(*oauth.token(self.sandbox, params, self._basic()))
            if path.startswith("/sandbox/"):
                return self.sandbox.admin.handle(self, method, path, url.query)
            if path == "/":
                return self.send_json(
                    200, {"service": "wave-sandbox", "graphql": "/graphql/public"}
                )
            return self.send_json(404, {"error": "not found"})
        except DropConnection:
            self.drop()

    def _basic(self):
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                user, _, pwd = base64.b64decode(auth[6:]).decode().partition(":")
                return user, pwd
            except ValueError:
                return None
        return None

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # GraphQL ----------------------------------------------------------------------
    def graphql(self):
        sb = self.sandbox
        raw = self._body()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self.send_json(
                400,
                {
                    "errors": [
                        error(
                            "POST body must be a JSON object with a 'query' string.", "BAD_REQUEST"
                        )
                    ]
                },
            )
        auth = self.headers.get("Authorization", "")
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
        if token is None or not token.valid(time.time()):
            return self.send_json(
                200, {"errors": [error(UNAUTHENTICATED_MESSAGE, "UNAUTHENTICATED")], "data": None}
            )
        allowed, rl_headers = sb.rate_limiter.check(token_str)
        if not allowed:
            return self._rate_limited(rl_headers)
        fault = None
        if self.headers.get("X-Sandbox-Admin-Token") != sb.admin_token:
            # A test driver's own GraphQL calls (admin header) are never faulted.
            fault = sb.faults.pick(set(roots) | ({label} if label else set()))
        post = None
        if fault is not None:
            kind = fault.kind
            if kind == "http_error":
                return self.send_json(
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
                return self.send_json(
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
        headers = {"Content-Type": "application/json", **rl_headers}
        if post == "malformed":
            payload = payload[: max(len(payload) // 2, 1)]
        self.send(200, headers, payload)

    def _rate_limited(self, headers):
        self.send_json(
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


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
