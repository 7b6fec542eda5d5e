# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Connect to the Wave sandbox through its real OAuth consent page, in one browser.

Headless Chromium does the whole round trip, as an administrator's browser would:

1. the tour ``wave_oauth_connect_tour`` opens the connection and clicks
   "Connect to Wave"; Odoo answers with ``/wave/oauth/start``, which redirects the
   browser to the sandbox's ``/oauth2/authorize/`` (another origin: another port);
2. the consent page is real HTML served by the sandbox: the test waits for it, takes
   a screenshot and clicks "Allow" with a mouse event sent through the DevTools
   protocol of the very browser the tour runs in;
3. the sandbox redirects the browser to ``/wave/oauth/callback``: Odoo checks the
   state, exchanges the code and sends the browser to the business selection (the
   grant reaches two businesses), where the tour resumes and picks one;
4. a second tour, ``wave_connection_tour``, opens the connection and checks it reads
   "Connected" with the business name; the page HTML never contains a token.
"""

import base64
import json
import time
from concurrent.futures import Future
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, tagged
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME, ChromeBrowser, ChromeBrowserException

from .common import WaveSandboxCommon
from .test_tour_ui import SCREENSHOTS

CONNECTIONS_URL = "/odoo/action-wave_accounting_integration.wave_api_action"
CLIENT_ID = "odoo-tour"
CLIENT_SECRET = "odoo-tour-SECRET"


@tagged("post_install", "-at_install")
class TestConnectTour(WaveSandboxCommon, HttpCase):
    sandbox_customers = 2
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", cls.base_url())
        cls.redirect_uri = cls.base_url() + "/wave/oauth/callback"
        cls.sandbox.register_oauth_client(
            CLIENT_ID, CLIENT_SECRET, [cls.redirect_uri], name="Odoo tour"
        )
        cls.connection.sudo().write(
            {
                "auth_method": "oauth",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "full_access_token": False,
                "state": "draft",
                "business_id": False,
                "business_name": False,
                "business_currency": False,
            }
        )

    # ------------------------------------------------------------------
    # Driving the one browser through the DevTools protocol
    # ------------------------------------------------------------------
    @contextmanager
    def _browser(self, login):
        """A headless Chrome logged in as ``login``, set up like ``HttpCase.browser_js``."""
        browser = ChromeBrowser(self, success_signal="tour succeeded")
        try:
            self.http_request_key = self.canonical_tag + "_browser_js"
            self.authenticate(login, login, browser=browser)
            self.http_request_strict_check = True
            # Requests of the browser run on test cursors with caches of their own.
            self.cr.flush()
            self.cr.clear()
            yield browser
        finally:
            browser.stop()
            self._wait_remaining_requests()
            self.http_request_key = self.canonical_tag
            self.opener.cookies[TEST_CURSOR_COOKIE_NAME] = self.http_request_key

    @staticmethod
    def _evaluate(browser, expression, timeout=10.0):
        """The JSON value of ``expression`` in the page (``None`` while it navigates)."""
        try:
            answer = browser._websocket_request(
                "Runtime.evaluate",
                params={"expression": expression, "returnByValue": True, "awaitPromise": True},
                timeout=timeout,
            )
        except (ChromeBrowserException, TimeoutError):
            return None  # the page is being replaced: ask again
        return (answer or {}).get("result", {}).get("value")

    def _where(self, browser):
        """Where the browser is, and the message of an Odoo error page, for failures."""
        return self._evaluate(
            browser,
            "JSON.stringify({url: location.href, title: document.title, "
            "message: (document.getElementById('wave-oauth-message') || {}).textContent})",
        )

    def _wait_for(self, browser, expression, what, timeout=30.0):
        """Poll ``expression`` until truthy; fail clearly on a tour error or a timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_tour_failure(browser, what)
            value = self._evaluate(browser, expression)
            if value:
                return value
            time.sleep(0.2)
        self.fail(
            f"Timed out after {timeout:.0f}s waiting for {what}; browser: {self._where(browser)}"
        )

    def _raise_tour_failure(self, browser, what):
        outcome = browser._result
        if outcome.done() and not outcome.cancelled() and outcome.exception():
            self.fail(f"The tour failed while waiting for {what}:\n{outcome.exception()}")

    def _start_tour(self, browser, tour, url_path):
        """Load ``url_path`` in the (already open) browser and start ``tour`` there."""
        browser._result = Future()  # a fresh outcome: the browser may already have run a tour
        browser.had_failure = False
        # Mark the current document so the readiness check cannot answer from it.
        self._evaluate(browser, "window.waveOldPage = true")
        browser.navigate_to(self.base_url() + url_path)
        self._wait_for(
            browser,
            f"!window.waveOldPage && window.odoo && odoo.isTourReady && odoo.isTourReady({tour!r})",
            f"the Odoo page {url_path} to load the tour {tour}",
        )
        options = {"stepDelay": 0, "keepWatchBrowser": False, "debug": False, "startUrl": url_path}
        self._evaluate(browser, f"odoo.startTour({tour!r}, {json.dumps(options)}); true")

    def _wait_tour(self, browser, tour, timeout=60.0):
        """Wait for ``tour succeeded``; stop at once on an Odoo error page or a tour error."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._raise_tour_failure(browser, f"the end of {tour}")
            if browser._result.done():
                self.assertFalse(browser.had_failure, f"{tour}: the browser logged an error")
                return
            message = self._evaluate(
                browser, "(document.getElementById('wave-oauth-message') || {}).textContent"
            )
            if message:
                self.fail(f"{tour}: Odoo showed an error page instead of the screen: {message}")
            time.sleep(0.3)
        self.fail(f"{tour} did not finish within {timeout:.0f}s; browser: {self._where(browser)}")

    def _click(self, browser, selector):
        """A real mouse click (pressed and released) on the centre of ``selector``."""
        box = self._evaluate(
            browser,
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            "if (!el) { return null; } const r = el.getBoundingClientRect();"
            "return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()",
        )
        self.assertTrue(box, f"{selector} is not on the page; browser: {self._where(browser)}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            params = {"type": kind, "x": box["x"], "y": box["y"]}
            if kind != "mouseMoved":
                params.update(button="left", clickCount=1)
            browser._websocket_request("Input.dispatchMouseEvent", params=params)

    def _screenshot(self, browser, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        data = browser._websocket_request("Page.captureScreenshot", timeout=30)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def _issued_tokens(self):
        """The access and refresh tokens the sandbox issued to Odoo's OAuth client."""
        state = self.sandbox.state
        with state.lock:
            access = [t.token for t in state.tokens.values() if t.client_id == CLIENT_ID]
            refresh = [
                r for r, rec in state.refresh_tokens.items() if rec["client_id"] == CLIENT_ID
            ]
        return access, refresh

    # ------------------------------------------------------------------
    def test_connect_through_oauth_consent_page(self):
        """Connect to Wave in the browser: consent page, callback, business, screen."""
        sandbox_origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.sandbox.base_url))
        pages = {}
        with self._browser("wave_admin") as browser:
            # 1. The tour clicks "Connect to Wave"; the browser leaves for the sandbox.
            self._start_tour(browser, "wave_oauth_connect_tour", CONNECTIONS_URL)
            consent_url = self._wait_for(
                browser,
                f"location.origin === {sandbox_origin!r} "
                "&& location.pathname === '/oauth2/authorize/' "
                "&& document.readyState === 'complete' "
                "&& !!document.getElementById('allow') && location.href",
                "the sandbox's OAuth consent page",
            )
            # 2. The consent page as the administrator sees it.
            query = {
                key: values[0] for key, values in parse_qs(urlsplit(consent_url).query).items()
            }
            self.assertEqual(query.get("client_id"), CLIENT_ID)
            self.assertEqual(query.get("response_type"), "code")
            self.assertTrue(query.get("state"), "Odoo binds a state to the session")
            heading = self._evaluate(browser, "document.querySelector('h1').textContent")
            self.assertIn("Odoo tour wants to access your Wave", " ".join(heading.split()))
            scopes = self._evaluate(
                browser, "[...document.querySelectorAll('#scopes li')].map(li => li.textContent)"
            )
            self.assertIn("invoice:read", scopes)
            screenshot = self._screenshot(browser, "wave_oauth_consent")
            self.assertEqual(screenshot.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
            self.assertGreater(screenshot.stat().st_size, 5000, "a real screenshot")
            self.assertFalse(self._issued_tokens()[0], "no token before the consent")
            # 3. Allow: sandbox -> /wave/oauth/callback -> business selection; the tour
            # resumes there, picks the business and lands back on the connection.
            self._click(browser, "#allow")
            self._wait_tour(browser, "wave_oauth_connect_tour")
            pages["after the callback"] = self._evaluate(
                browser, "document.documentElement.outerHTML"
            )
            landing = self._evaluate(browser, "location.href")
            self.assertTrue(landing.startswith(self.base_url()), landing)
            self.assertIn(f"/{self.connection.id}", landing, "back on the connection")
            # 4. The connection screen, in the same browser.
            self._start_tour(browser, "wave_connection_tour", CONNECTIONS_URL)
            self._wait_tour(browser, "wave_connection_tour")
            pages["connection form"] = self._evaluate(browser, "document.documentElement.outerHTML")

        # The server side: the code was exchanged, the tokens stored, the business chosen.
        access, refresh = self._issued_tokens()
        self.assertEqual(len(access), 1, "one code exchanged, once")
        self.assertEqual(len(refresh), 1)
        connection = self.connection.sudo()
        connection.invalidate_recordset()
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.business_id, self.wave_us.id)
        self.assertEqual(connection.business_name, self.wave_us.name)
        self.assertEqual(connection.business_currency, "USD")
        self.assertEqual(connection.access_token, access[0])
        self.assertEqual(connection.refresh_token, refresh[0])
        self.assertTrue(connection.token_expires_at)
        # No token, and no client secret, ever reaches the browser.
        for page, html in pages.items():
            self.assertTrue(html and "<body" in html, f"{page}: no HTML captured")
            for secret in (access[0], refresh[0], CLIENT_SECRET):
                self.assertNotIn(secret, html, f"{page}: a secret is in the page")
