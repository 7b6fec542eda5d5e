"""The :class:`WaveSandbox` facade: owns the store, HTTP server, webhooks, faults, persistence."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import pickle
import secrets
import tempfile
import threading

from . import ops, serialize
from .admin import AdminAPI
from .export import DEFAULT_COLUMNS
from .faults import Faults
from .generator import ensure_user
from .generator import seed_demo as _seed_demo
from .gql import NOT_FOUND_SHAPES, Executor
from .resolvers import DEFAULT_MAX_PAGE_SIZE, build
from .server import Counters, RateLimiter, SandboxServer
from .store import State, Token
from .webhooks import Webhooks

_SCHEMA = None
STATE_VERSION = 1


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = build()
    return _SCHEMA


class WaveSandbox:
    """A local fake of Wave's public API.  See the package docstring for the interface."""

    def __init__(
        self,
        seed=42,
        port=0,
        state_file=None,
        rate_limit=60,
        rate_window=60,
        access_token_ttl=7200,
        admin_token="sandbox-admin",
        host="127.0.0.1",
        demo=False,
        invoices_per_business=200,
        realistic=False,
        estimates_per_business=0,
        webhook_retry_delays=(0.5, 1, 2, 4),
        autosave_interval=60.0,
        max_page_size=DEFAULT_MAX_PAGE_SIZE,
    ):
        self.seed, self.host, self.port = seed, host, port
        self.state_file = state_file
        self.admin_token = admin_token
        self.access_token_ttl = access_token_ttl
        self.max_page_size = max_page_size
        self.autosave_interval = autosave_interval
        self.export_columns = list(DEFAULT_COLUMNS)
        self.rate_limiter = RateLimiter(rate_limit, rate_window)
        self.faults = Faults(seed)
        self.counters = Counters()
        self.executor = Executor(schema())
        self.admin = AdminAPI(self)
        self.stopping = threading.Event()
        self._server = None
        self._threads: list[threading.Thread] = []
        self.state = self._load() if state_file and os.path.exists(state_file) else None
        if self.state is None:
            self.state = State(seed)
            ensure_user(self.state)
            if demo:
                self.seed_demo(
                    invoices_per_business=invoices_per_business,
                    realistic=realistic,
                    estimates_per_business=estimates_per_business,
                )
        self.state.access_token_ttl = access_token_ttl
        self.webhooks = Webhooks(self.state, retry_delays=webhook_retry_delays)
        self._attach()

    # lifecycle --------------------------------------------------------------------
    def _attach(self):
        self.webhooks.state = self.state
        if not hasattr(self.state, "webhook_subscriptions"):
            self.state.webhook_subscriptions = {}
        self.state.listeners = [self.webhooks.on_event]

    def start(self):
        self._server = SandboxServer(self, self.host, self.port).start()
        self.port = self._server.port
        self.stopping.clear()
        self._threads = [self._server.thread]
        self.webhooks.start()
        if self.state_file and self.autosave_interval:
            a = threading.Thread(target=self._autosave, name="wave-sandbox-autosave", daemon=True)
            a.start()
            self._threads.append(a)
        return self

    def stop(self):
        self.stopping.set()  # wakes the hang/slow faults and the autosave thread
        self.webhooks.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.state_file:
            self.save()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self):
        return self.base_url + "/graphql/public"

    @property
    def authorize_url(self):
        return self.base_url + "/oauth2/authorize/"

    @property
    def token_url(self):
        return self.base_url + "/oauth2/token/"

    # persistence --------------------------------------------------------------------
    def _is_json(self, path) -> bool:
        return str(path).lower().endswith(".json")

    def _load(self):
        if self._is_json(self.state_file):
            with open(self.state_file, encoding="utf-8") as fh:
                return serialize.load(json.load(fh))
        with open(self.state_file, "rb") as fh:
            version, state = pickle.load(fh)
        if version != STATE_VERSION:
            raise ValueError(f"state file version {version} != {STATE_VERSION}")
        return state

    def save(self, path=None) -> str:
        """Write the state atomically: JSON for ``*.json`` paths, pickle otherwise."""
        path = path or self.state_file
        if not path:
            raise ValueError("no state_file configured")
        with self.state.lock:
            if self._is_json(path):
                data = json.dumps(serialize.dump(self.state), separators=(",", ":")).encode()
            else:
                data = pickle.dumps((STATE_VERSION, self.state), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return path

    def _autosave(self):
        while not self.stopping.wait(self.autosave_interval):
            try:
                self.save()
            except OSError:
                pass

    # data helpers -------------------------------------------------------------------
    @property
    def user(self):
        return self.state.users[0]

    def reset(self, seed_demo=False, invoices_per_business=200, realistic=False):
        """Back to an empty store (one user, no businesses); optionally seeded."""
        with self.state.lock:
            self.state = State(self.seed)
            ensure_user(self.state)
            self.state.access_token_ttl = self.access_token_ttl
            self._attach()
            self.webhooks.deliveries.clear()
            self.webhooks.events.clear()
            self.webhooks.duplicate_next = self.webhooks.hold_count = 0
            self.faults.clear()
            self.counters.reset()
            self.rate_limiter.reset()
            if seed_demo:
                self.seed_demo(invoices_per_business=invoices_per_business, realistic=realistic)
        return self

    def seed_demo(
        self,
        invoices_per_business=200,
        customers=40,
        vendors=15,
        years=3,
        realistic=False,
        estimates_per_business=0,
    ):
        """Create the demo US (USD) and Canadian (CAD) businesses; returns them.

        ``realistic=True``: the awkward cases of real books (see ``realistic.py``)."""
        with self.state.lock:
            result = _seed_demo(
                self.state,
                invoices_per_business=invoices_per_business,
                customers=customers,
                vendors=vendors,
                years=years,
                realistic=realistic,
                estimates_per_business=estimates_per_business,
            )
        gc.collect()
        gc.freeze()  # long-lived data: keep it out of future GC passes (latency)
        return result

    def create_business(
        self,
        name="Sandbox Business",
        currency="USD",
        country="US",
        province=None,
        classic=False,
        email_send_enabled=True,
    ):
        """Create an empty business (with Wave's default chart of accounts)."""
        with self.state.lock:
            return ops.create_business(
                self.state,
                self.user,
                name,
                currency,
                country,
                province,
                classic=classic,
                email_send_enabled=email_send_enabled,
            )

    def issue_full_access_token(self, scopes=None, business_ids=None, ttl=None) -> str:
        """A full-access token (all scopes unless ``scopes`` given; never expires by default)."""
        if isinstance(scopes, str):
            scopes = scopes.split()
        token = "sbx_fat_" + secrets.token_urlsafe(24)
        expires = None if ttl is None else self._now() + float(ttl)
        self.state.tokens[token] = Token(
            token, "full_access", self.user.id, set(scopes or ["*"]), business_ids, expires
        )
        return token

    def register_oauth_client(self, client_id, client_secret, redirect_uris, name=None):
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        self.state.oauth_clients[client_id] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "name": name or client_id,
        }

    def revoke_tokens(self, token=None, client_id=None, all=False) -> int:
        n = 0
        for t in self.state.tokens.values():
            hit = all or t.token == token or (client_id and t.client_id == client_id)
            if hit and not t.revoked:
                t.revoked, n = True, n + 1
        for rt, rec in self.state.refresh_tokens.items():
            if all or rt == token or (client_id and rec["client_id"] == client_id):
                rec["used"] = True
        return n

    def expire_tokens(self, token=None, all=False) -> int:
        """Make access tokens expire now (the refresh tokens stay usable)."""
        n = 0
        for t in self.state.tokens.values():
            if all or t.token == token:
                t.expires_at, n = self._now() - 1, n + 1
        return n

    def configure(self, **cfg):
        """Runtime settings (admin ``/sandbox/config``)."""
        if "access_token_ttl" in cfg:
            self.access_token_ttl = self.state.access_token_ttl = float(cfg["access_token_ttl"])
        if "rate_limit" in cfg:
            self.rate_limiter.limit = int(cfg["rate_limit"])
        if "rate_window" in cfg:
            self.rate_limiter.window = float(cfg["rate_window"])
        if "max_page_size" in cfg:
            self.max_page_size = int(cfg["max_page_size"])
        if "today" in cfg:
            self.state.frozen_today = dt.date.fromisoformat(cfg["today"]) if cfg["today"] else None
        if "export_columns" in cfg:
            self.export_columns = list(cfg["export_columns"])
        if "webhook_scheme" in cfg:
            self.webhooks.scheme.update(cfg["webhook_scheme"])
        if "webhook_retry_delays" in cfg:
            self.webhooks.retry_delays = [float(x) for x in cfg["webhook_retry_delays"]]
        if "not_found_shape" in cfg:
            if cfg["not_found_shape"] not in NOT_FOUND_SHAPES:
                raise ValueError(f"not_found_shape must be one of {NOT_FOUND_SHAPES}")
            self.state.not_found_shape = cfg["not_found_shape"]
        if "unsorted_pages" in cfg:
            self.state.unsorted_pages = set(cfg["unsorted_pages"] or ())
        return {
            "access_token_ttl": self.state.access_token_ttl,
            "rate_limit": self.rate_limiter.limit,
            "rate_window": self.rate_limiter.window,
            "max_page_size": self.max_page_size,
            "today": self.state.today().isoformat(),
            "export_columns": self.export_columns,
            "webhook_scheme": self.webhooks.scheme,
            "webhook_retry_delays": self.webhooks.retry_delays,
            "not_found_shape": getattr(self.state, "not_found_shape", "wave"),
            "unsorted_pages": sorted(getattr(self.state, "unsorted_pages", ())),
        }

    def scan_overdue(self) -> int:
        """Emit ``invoice.overdue`` once for every invoice that became OVERDUE."""
        n = 0
        with self.state.lock:
            today = self.state.today()
            for b in self.state.businesses:
                for inv in b.invoices:
                    if not inv.overdue_notified and inv.status_on(today) == "OVERDUE":
                        inv.overdue_notified = True
                        self.state.emit("invoice.overdue", b, inv)
                        n += 1
        return n

    def summary(self):
        st = self.state
        return {
            "base_url": self.base_url,
            "user_id": self.user.id,
            "businesses": [
                {
                    "id": b.id,
                    "name": b.name,
                    "currency": b.currency_code,
                    "invoices": len(b.invoices),
                    "customers": len(b.customers),
                    "isClassicAccounting": b.is_classic_accounting,
                }
                for b in st.businesses
            ],
            "oauth_clients": sorted(st.oauth_clients),
            "tokens": len(st.tokens),
        }

    @staticmethod
    def _now():
        import time

        return time.time()
