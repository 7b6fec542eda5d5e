"""``python -m wave_sandbox`` as a separate process, driven over HTTP."""

import re
import sys
import time

import requests

from .env import ROOT
from .ports import free_port
from .processes import ProcessGroup

READY_MARK = "Wave sandbox ready"  # the last line of the sandbox's banner (wave_sandbox.__main__)
TOKEN_LINE = re.compile(r"Full-access token: (?P<token>\S+)")
BUSINESS_LINE = re.compile(r"Business (?P<name>.*) \((?P<currency>\w{3})\): (?P<id>\S+)")


class SandboxProcess:
    """The Wave sandbox in its own process group, rate limit off by default.

    After start, :attr:`token` is the full-access token the sandbox printed and
    :attr:`businesses` its businesses (``name``, ``currency``, ``id``); the admin
    API (``/sandbox/...``) is at hand with :meth:`admin`.
    """

    def __init__(
        self,
        *,
        seed=42,
        port=None,
        admin_token="sandbox-admin",
        rate_limit=0,
        invoices=None,
        demo=False,
        extra_args=(),
        log_dir=None,
        start_timeout=60,
        preexec_fn=None,
    ):
        self.port = port or free_port()
        self.base = self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token, self.start_timeout = admin_token, start_timeout
        cmd = [
            sys.executable, "-m", "wave_sandbox",
            "--port", self.port,
            "--seed", seed,
            "--rate-limit", rate_limit,
            "--admin-token", admin_token,
        ]  # fmt: skip
        if invoices is not None:
            cmd += ["--invoices", invoices]
        if demo:
            cmd.append("--demo")
        self.group = ProcessGroup(
            [*cmd, *extra_args],
            name="wave_sandbox",
            cwd=ROOT / "tests",
            log_dir=log_dir,
            preexec_fn=preexec_fn,
        )
        self.http = requests.Session()
        self.http.headers["X-Sandbox-Admin-Token"] = admin_token
        self.token, self.businesses = None, []

    @property
    def proc(self):
        return self.group.proc

    def start(self):
        self.group.start_and_wait(self._wait_ready)
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            banner = self.group.log_text()
            if READY_MARK in banner:
                token = TOKEN_LINE.search(banner)
                self.token = token["token"] if token else None
                self.businesses = [m.groupdict() for m in BUSINESS_LINE.finditer(banner)]
                return
            if not self.group.running():
                raise RuntimeError(f"the sandbox exited:\n{self.group.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"the sandbox did not start:\n{self.group.log_tail()}")

    def business(self, currency):
        """The id of the sandbox's first business in ``currency``."""
        return next(b["id"] for b in self.businesses if b["currency"] == currency)

    def stop(self):
        self.group.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.group.__exit__(*exc)

    def admin(self, method, path, payload=None, timeout=120):
        """A call to the sandbox's admin API; raises on an error status."""
        response = self.http.request(method, self.base + path, json=payload, timeout=timeout)
        if not response.ok:
            raise RuntimeError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}
