"""Fixtures for the Wave client library tests (no Odoo needed).

The library is loaded by file path under the private name ``wave_client_lib``
so that importing it never imports the Odoo addon package (or Odoo).
"""

import importlib.util
import json
import pathlib
import sys
import types

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

REPO = pathlib.Path(__file__).resolve().parents[2]
LIB_DIR = REPO / "wave_accounting_integration" / "lib"
TESTS_DIR = REPO / "tests"


def load_lib():
    """Import ``wave_accounting_integration/lib`` as ``wave_client_lib``."""
    if "wave_client_lib" in sys.modules:
        return sys.modules["wave_client_lib"]
    spec = importlib.util.spec_from_file_location(
        "wave_client_lib", LIB_DIR / "__init__.py", submodule_search_locations=[str(LIB_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["wave_client_lib"] = module
    spec.loader.exec_module(module)
    return module


load_lib()
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


def make_response(request, status=200, body=None, headers=None, text=None):
    """Build a ``requests.Response`` for ``request``."""
    response = requests.Response()
    response.status_code = status
    response.request = request
    response.url = request.url
    response.encoding = "utf-8"
    response.headers = CaseInsensitiveDict(headers or {})
    if text is None:
        text = json.dumps(body if body is not None else {})
        response.headers.setdefault("Content-Type", "application/json")
    response._content = text.encode("utf-8")
    return response


class FakeAdapter(BaseAdapter):
    """A ``requests`` transport adapter answering from a queue of scripted replies.

    Each reply is a callable ``(request) -> Response or tuple``, an exception instance
    (raised as if the network failed), or a tuple ``(status, body[, headers])``.
    The last reply is repeated when the queue runs dry.
    """

    def __init__(self):
        super().__init__()
        self.replies = []
        self.calls = []

    response = staticmethod(make_response)

    def queue(self, *replies):
        """Append replies."""
        self.replies.extend(replies)
        return self

    def send(self, request, **kwargs):
        """Record ``request`` and play the next scripted reply."""
        self.calls.append(
            {
                "request": request,
                "kwargs": kwargs,
                "json": _json_body(request),
                "headers": dict(request.headers),
            }
        )
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            reply = reply(request)
            if isinstance(reply, requests.Response):
                return reply
        return make_response(request, *reply)

    def close(self):
        """Nothing to close."""


def _json_body(request):
    """Decode a JSON request body (None for form bodies)."""
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class FakeTokens:
    """Token provider counting ``get`` and ``refresh`` calls."""

    def __init__(self, tokens=("access-token-1", "access-token-2", "access-token-3")):
        self.tokens = list(tokens)
        self.index = 0
        self.gets = 0
        self.refreshes = 0
        self.refresh_error = None

    def get_access_token(self):
        """Return the current token."""
        self.gets += 1
        return self.tokens[self.index]

    def refresh_access_token(self):
        """Move to the next token (or raise ``refresh_error``)."""
        self.refreshes += 1
        if self.refresh_error is not None:
            raise self.refresh_error
        self.index += 1
        return self.tokens[self.index]


class SleepRecorder:
    """Injected ``sleep`` that records delays (and may advance a fake clock)."""

    def __init__(self, clock=None):
        self.delays = []
        self.clock = clock

    def __call__(self, seconds):
        """Record the delay."""
        self.delays.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds


class FakeClock:
    """Monotonic clock that only moves when told to."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        """Return the current fake time."""
        return self.now


@pytest.fixture
def helpers():
    """Return the helper classes (tests must not import ``conftest``)."""
    return types.SimpleNamespace(
        FakeClock=FakeClock,
        SleepRecorder=SleepRecorder,
        FakeTokens=FakeTokens,
        make_response=make_response,
    )


@pytest.fixture
def lib():
    """Return the library module."""
    return load_lib()


@pytest.fixture
def fake():
    """Return a FakeAdapter mounted on a fresh session (``fake.session``)."""
    adapter = FakeAdapter()
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    adapter.session = session
    return adapter


@pytest.fixture
def tokens():
    """Return a FakeTokens provider."""
    return FakeTokens()


@pytest.fixture
def sleeps():
    """Return a SleepRecorder."""
    return SleepRecorder()


@pytest.fixture
def records():
    """Return a list collecting request_logger records."""
    return []


@pytest.fixture
def make_client(lib, fake, tokens, sleeps, records):
    """Return a factory of WaveClient wired to the fake adapter."""

    def factory(**kwargs):
        options = {
            "session": fake.session,
            "sleep": sleeps,
            "rng": lambda: 1.0,
            "request_logger": records.append,
        }
        options.update(kwargs)
        endpoint = options.pop("endpoint", "https://gql.example.test/graphql/public")
        return lib.WaveClient(endpoint, options.pop("token_provider", tokens), **options)

    return factory
