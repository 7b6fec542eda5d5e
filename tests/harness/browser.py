"""Headless Chromium driven over the Chrome DevTools Protocol (CDP).

No Selenium: Debian's ``chromium`` started with ``--remote-debugging-port`` in its
own process group (:class:`.processes.ProcessGroup`), and one browser-level CDP
websocket (``websocket-client``) in *flatten* mode: every page and worker the
browser opens (the web client's page, the bus's shared worker) is attached
automatically and reports its console messages, uncaught exceptions, log entries
and websockets (:attr:`Chromium.events`), as an outsider sees them.
"""

import base64
import itertools
import json
import os
import resource
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import requests
import websocket

from .ports import free_port
from .processes import ProcessGroup

#: The domains enabled on every attached page or worker (``Page`` on pages only).
_DOMAINS = ("Runtime", "Log", "Network")


class BrowserError(AssertionError):
    """A CDP command failed, or a script raised in the page."""


def chromium_binary():
    """Debian's ``chromium`` (or Google's ``chrome``), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless browser with one tab; use as a context manager.

    ``log_dir``: where Chromium's own output is kept (with the test's other logs).
    """

    def __init__(self, log_dir, width=1440, height=900):
        self.profile = Path(tempfile.mkdtemp(prefix="chromium_", dir=log_dir))
        self.port = free_port()
        binary = chromium_binary()
        assert binary, "chromium is not installed (README, 'Requirements')"
        cmd = [
            binary,
            "--headless=new",
            f"--remote-debugging-port={self.port}",
            "--remote-allow-origins=*",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--password-store=basic",
            "about:blank",
        ]
        if os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = ProcessGroup(
            cmd, name="chromium", log_dir=log_dir, preexec_fn=_without_memory_limit
        )
        self.events = []  # (session id, method, params) of every event, in order
        self.sessions = {}  # session id -> target info, for every attached target
        self._ids = itertools.count(1)
        self._pending = {}
        self._lock = threading.Lock()
        self._ws = None
        self._reader = None
        self.page = None  # the session id of the tab

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self):
        self.process.start()
        try:
            self._connect()
        except BaseException:
            self.process.stop()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._ws is not None:
                self._ws.close()
        finally:
            self.process.stop(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)

    def _connect(self, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            if not self.process.running():
                raise BrowserError(
                    f"chromium exited ({self.process.proc.returncode}):\n{self.process.log_tail()}"
                )
            try:
                version = requests.get(f"http://127.0.0.1:{self.port}/json/version", timeout=2)
                url = version.json()["webSocketDebuggerUrl"]
                break
            except (requests.RequestException, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise BrowserError(
                        f"chromium opened no DevTools port in {timeout} s:\n"
                        f"{self.process.log_tail()}"
                    ) from None
                time.sleep(0.2)
        self._ws = websocket.create_connection(url, timeout=None, suppress_origin=True)
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()
        # Every target (tab, shared worker, service worker) is attached as it starts,
        # paused until its domains are enabled: nothing it logs is missed.
        self.call(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
        )
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        deadline = time.monotonic() + timeout
        while self.page is None:
            with self._lock:
                for session, info in self.sessions.items():
                    if info["targetId"] == target:
                        self.page = session
            if time.monotonic() > deadline:
                raise BrowserError("the new tab was never attached")
            time.sleep(0.05)
        self.call("Page.enable", session=self.page)

    # -- protocol ----------------------------------------------------------
    def _send(self, method, params=None, session=None):
        message_id = next(self._ids)
        future = Future()
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        with self._lock:
            self._pending[message_id] = future
        self._ws.send(json.dumps(message))
        return future

    def call(self, method, params=None, session=None, timeout=60):
        """Send a CDP command and return its result (raise :class:`BrowserError`)."""
        answer = self._send(method, params, session).result(timeout=timeout)
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    def _read(self):
        while True:
            try:
                message = json.loads(self._ws.recv())
            except (websocket.WebSocketException, OSError, ValueError):
                with self._lock:
                    pending, self._pending = self._pending, {}
                for future in pending.values():
                    future.set_result({"error": "the DevTools connection closed"})
                return
            if "id" in message:
                with self._lock:
                    future = self._pending.pop(message["id"], None)
                if future:
                    future.set_result(message)
                continue
            method, params = message.get("method"), message.get("params", {})
            if method == "Target.attachedToTarget":
                self._attached(params)
            with self._lock:
                self.events.append((message.get("sessionId"), method, params))

    def _attached(self, params):
        """Enable the domains of a new target, then let it run (never waits: reader thread)."""
        session, info = params["sessionId"], params["targetInfo"]
        with self._lock:
            self.sessions[session] = info
        for domain in _DOMAINS:
            self._send(f"{domain}.enable", session=session)
        if info["type"] == "page":
            # the page's own dedicated workers, attached the same way
            self._send(
                "Target.setAutoAttach",
                {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True},
                session=session,
            )
        self._send("Runtime.runIfWaitingForDebugger", session=session)

    # -- the tab -----------------------------------------------------------
    def evaluate(self, expression, timeout=60):
        """Run ``expression`` in the tab (awaiting a promise); its JSON-able value."""
        result = self.call(
            "Runtime.evaluate",
            {
                "expression": expression,
                "awaitPromise": True,
                "returnByValue": True,
                "timeout": timeout * 1000,
            },
            session=self.page,
            timeout=timeout + 10,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"the page raised: {text}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=60, what=None):
        """Poll ``expression`` in the tab until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression, timeout=timeout)
            except BrowserError:
                value = None  # e.g. the page is navigating
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"{what or expression} never became true in {timeout} s")
            time.sleep(0.2)

    def navigate(self, url, ready="document.readyState === 'complete'", timeout=120):
        self.call("Page.navigate", {"url": url}, session=self.page)
        time.sleep(0.3)  # the old document may still answer "complete"
        self.wait_for(ready, timeout=timeout, what=f"{url}: {ready}")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=self.page)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    # -- what the browser reported ------------------------------------------
    def mark(self):
        """A position in :attr:`events`: pass it to the readers below for what came after."""
        with self._lock:
            return len(self.events)

    def _since(self, start):
        with self._lock:
            return list(self.events[start:])

    def console_lines(self, start=0):
        """The text of every ``console.*`` call since ``start``, as ``(type, text)``."""
        lines = []
        for _session, method, params in self._since(start):
            if method == "Runtime.consoleAPICalled":
                text = " ".join(_remote_text(arg) for arg in params.get("args", []))
                lines.append((params["type"], text))
        return lines

    def errors(self, start=0):
        """Console errors, uncaught exceptions and error log entries since ``start``,
        from the tab and every worker, as readable lines."""
        found = []
        for session, method, params in self._since(start):
            where = self.sessions.get(session, {}).get("type", "browser")
            if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                text = " ".join(_remote_text(arg) for arg in params.get("args", []))
                found.append(f"{where} console.{params['type']}: {text}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                found.append(f"{where} uncaught: {text}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                found.append(
                    f"{where} log ({entry['source']}): {entry['text']} {entry.get('url', '')}"
                )
        return found

    def websockets(self, start=0):
        """``{url: status}`` of the websockets opened since ``start`` by the tab or a
        worker: the handshake's HTTP status (101: connected), else None."""
        by_request, sockets = {}, {}
        for session, method, params in self._since(start):
            if method == "Network.webSocketCreated":
                key = (session, params["requestId"])
                by_request[key] = params["url"]
                sockets.setdefault(params["url"], None)
            elif method == "Network.webSocketHandshakeResponseReceived":
                url = by_request.get((session, params["requestId"]))
                if url:
                    sockets[url] = params["response"]["status"]
        return sockets


def _without_memory_limit():
    """In the child, before Chromium: no address-space limit. An Odoo server in this
    process (the tests' HTTP server) limits it to ``limit_memory_hard``, children
    inherit it, and Chromium, which reserves far more address space than it uses,
    then exits at once (Odoo's own test browser lifts it the same way)."""
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _remote_text(arg):
    """A console argument (a CDP RemoteObject) as text."""
    if "value" in arg:
        value = arg["value"]
        return value if isinstance(value, str) else json.dumps(value)
    return arg.get("description") or arg.get("unserializableValue") or arg.get("type", "")
