"""Fixtures for the sandbox's own tests (real HTTP against an in-process WaveSandbox)."""

from __future__ import annotations

import os
import sys

import pytest
import requests

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from wave_sandbox import WaveSandbox  # noqa: E402 (after the sys.path setup)

ADMIN = "test-admin"


class Api:
    """Tiny client: GraphQL + admin calls over HTTP."""

    def __init__(self, sb: WaveSandbox, token: str):
        self.sb, self.token = sb, token
        self.http = requests.Session()

    def post(self, query, variables=None, token=None, operation_name=None, timeout=10):
        body = {"query": query, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        tok = self.token if token is None else token
        headers = {"Authorization": f"Bearer {tok}"} if tok else {}
        return self.http.post(self.sb.graphql_url, json=body, headers=headers, timeout=timeout)

    def gql(self, query, variables=None, **kw):
        r = self.post(query, variables, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    def data(self, query, variables=None, **kw):
        body = self.gql(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def mutate(self, name, input_, fields="", **kw):
        q = (
            f"mutation($input: {name[0].upper() + name[1:]}Input!) {{ {name}(input: $input) "
            f"{{ didSucceed inputErrors {{ code message path }} {fields} }} }}"
        )
        return self.data(q, {"input": input_}, **kw)[name]

    def admin(self, method, path, **kw):
        r = self.http.request(
            method,
            self.sb.base_url + "/sandbox/" + path,
            headers={"X-Sandbox-Admin-Token": ADMIN},
            timeout=10,
            **kw,
        )
        return r


@pytest.fixture(scope="session")
def sandbox():
    sb = WaveSandbox(
        seed=42, port=0, rate_limit=0, admin_token=ADMIN, webhook_retry_delays=(0.05, 0.1, 0.2)
    )
    sb.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def demo(sandbox):
    """The sandbox seeded with the demo data (small) — shared, treat as read-only."""
    sandbox.reset()
    us, ca = sandbox.seed_demo(invoices_per_business=120, customers=30, vendors=10)
    return {"us": us, "ca": ca}


@pytest.fixture()
def api(sandbox):
    return Api(sandbox, sandbox.issue_full_access_token())


@pytest.fixture()
def fresh(sandbox):
    """An empty business with a product, a tax and a customer, for write tests."""
    b = sandbox.create_business(name="Fresh Co", currency="USD", country="US")
    return b
