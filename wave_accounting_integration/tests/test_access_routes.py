# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who sees what: accountants, portal and public users, and every ``/wave/`` route."""

import re

from odoo.exceptions import AccessError
from odoo.http import _generate_routing_rules
from odoo.tests import HttpCase, tagged

from .common import WaveCommon

WAVE_MODELS = (
    "wave.api",
    "wave.sync.job",
    "wave.account.map",
    "wave.partner.map",
    "wave.quarantine",
    "wave.audit.log",
    "wave.dashboard",
    "wave.golive.checklist",
    "wave.secret.rotation",
    "wave.webhook.event",
    "wave.request.log",
)
ACCOUNTANT_READS = (
    "wave.sync.job",
    "wave.account.map",
    "wave.partner.map",
    "wave.quarantine",
    "wave.audit.log",
    "wave.webhook.event",
    "wave.request.log",
)
ACCOUNTANT_MENUS = (
    "menu_wave_root",
    "menu_wave_dashboard",
    "menu_wave_quarantine",
    "menu_wave_account_map",
    "menu_wave_partner_map",
    "menu_wave_tax_map",
    "menu_wave_product_map",
    "menu_wave_audit_log",
    "menu_wave_sync_jobs",
)
ADMIN_MENUS = (
    "menu_wave_config",
    "menu_wave_settings",
    "menu_wave_connections",
    "menu_wave_historical_import",
)


@tagged("post_install", "-at_install")
class TestAccessRoutes(WaveCommon, HttpCase):
    def _visible_menus(self, user):
        """Wave menus reachable by ``user``: the menu and all its parents are visible."""
        try:
            menu_ids = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        except AccessError:  # portal and public users cannot read menus at all
            return set()
        visible = set()
        for xmlid in ACCOUNTANT_MENUS + ADMIN_MENUS:
            menu = self.env.ref(f"wave_accounting_integration.{xmlid}")
            chain = menu
            while chain.parent_id:
                chain = chain.parent_id
                menu |= chain
            if set(menu.ids) <= menu_ids:
                visible.add(xmlid)
        return visible

    def test_accountant_sees_mappings_quarantine_logs_not_settings(self):
        for model in ACCOUNTANT_READS:
            with self.subTest(model=model):
                self.env[model].with_user(self.wave_accountant).search([])
        self.assertEqual(self._visible_menus(self.wave_accountant), set(ACCOUNTANT_MENUS))
        self.assertEqual(self._visible_menus(self.wave_admin), set(ACCOUNTANT_MENUS + ADMIN_MENUS))
        # No settings, no secrets, no metrics token.
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.wave_accountant).create({})
        with self.assertRaises(AccessError):
            self.env["wave.secret.rotation"].with_user(self.wave_accountant).create(
                {"connection_id": self.connection.id}
            )
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.wave_accountant).get_param(
                "wave_accounting_integration.metrics_token"
            )
        # The dashboard works for them and carries no secret.
        dashboard = (
            self.env["wave.dashboard"]
            .with_user(self.wave_accountant)
            .create({"connection_id": self.connection.id})
        )
        values = dashboard.read()[0]
        self.assertNotIn("SECRET", repr(values))

    def test_portal_and_public_see_nothing(self):
        public = self.env.ref("base.public_user").sudo()  # sudo: read its login for messages
        for user in (self.portal_user, public, self.plain_accountant):
            self.assertFalse(self._visible_menus(user), user.login)
            for model in WAVE_MODELS:
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(user).search([])

    def _wave_routes(self):
        """Every route the installed modules declare under ``/wave``."""
        modules = self.env["ir.module.module"].search([("state", "=", "installed")])
        routes = {}
        for url, endpoint in _generate_routing_rules(modules.mapped("name"), nodb_only=False):
            if url.startswith("/wave"):
                routes[url] = endpoint.routing
        return routes

    def _concrete(self, path):
        return re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
            lambda m: str(self.connection.id) if m.group(1) in ("int", "model") else "x",
            path,
        )

    def test_every_wave_route_checks_authentication(self):
        routes = self._wave_routes()
        for known in ("/wave/metrics", "/wave/oauth/start", "/wave/oauth/callback"):
            self.assertIn(known, routes)
        self.assertTrue(any(r.startswith("/wave/webhook/") for r in routes))
        leaks = ("SECRET", self.connection.business_id, "Test Business", "wave_records")
        for path, routing in routes.items():
            url = self._concrete(path)
            for method in ("GET", "POST"):
                with self.subTest(route=path, method=method):
                    response = self.url_open(
                        url,
                        data=b"{}" if method == "POST" else None,
                        headers={"Content-Type": "application/json"},
                        allow_redirects=False,
                    )
                    status = response.status_code
                    if 300 <= status < 400:
                        self.assertIn("/web/login", response.headers.get("Location", ""))
                    else:
                        self.assertIn(status, (400, 401, 403, 404, 405), routing)
                    for secret in leaks:
                        self.assertNotIn(secret, response.text)

    def test_logged_in_accountant_cannot_use_admin_routes(self):
        self.authenticate("wave_accountant", "wave_accountant")
        response = self.url_open(
            f"/wave/oauth/start?connection_id={self.connection.id}", allow_redirects=False
        )
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("client-id-1", response.text)
        metrics = self.url_open("/wave/metrics", allow_redirects=False)
        self.assertEqual(metrics.status_code, 401, "a session is not a metrics token")
