# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Who may do what: every model of the addon x every role x every operation,
secret fields, and every ``/wave/...`` route without credentials.

The expectation table is explicit on purpose: a new model, or a change of its
access rights, fails here until the table says what is intended.
"""

import threading

import requests

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import WAVE_ADMIN, WaveCommon

OPERATIONS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}

#: model -> (Wave administrator, Wave user); accountants, portal and public: nothing.
#: Logs are append-only, written by the system: nobody edits them, administrators may
#: purge some. Wizards of the connection (business choice, historical import, secret
#: rotation) are for administrators only. Sync runs, quarantine entries and the outbound
#: ledger are written by the sync: nobody creates or deletes them by hand.
EXPECTED = {
    # configuration and operation
    "wave.api": ("rwcu", "r"),
    "wave.sync.job": ("rwc", "rwc"),
    "wave.account.map": ("rwcu", "rwc"),
    "wave.partner.map": ("rwcu", "rwc"),
    "wave.quarantine": ("rw", "rw"),
    "wave.import.cursor": ("rwcu", "r"),
    "wave.outbound.ledger": ("rw", "rw"),
    "wave.parity.report": ("rwcu", "rwc"),
    "wave.parity.line": ("rwcu", "rwc"),
    # logs
    "wave.audit.log": ("r", "r"),
    "wave.request.log": ("ru", "r"),
    "wave.webhook.event": ("rwu", "r"),
    "wave.rate.bucket": ("r", ""),
    # transient wizards and screens
    "wave.dashboard": ("rwc", "rwc"),
    "wave.golive.checklist": ("rwc", "rwc"),
    "wave.golive.checklist.line": ("rwcu", "rwcu"),
    "wave.parity.report.wizard": ("rwc", "rwc"),
    "wave.business.select": ("rwcu", ""),
    "wave.business.select.line": ("rwcu", ""),
    "wave.historical.import": ("rwcu", ""),
    "wave.secret.rotation": ("rwc", ""),
    "wave.export.file.import": ("rwc", "rwc"),
    "wave.export.file.import.message": ("rwc", "rwc"),
}
#: Statuses that carry no data.
REFUSED = {400, 401, 403, 404, 405}


def addon_models(env):
    """The concrete models the addon creates (abstract mixins have no table)."""
    model_ids = (
        env["ir.model.data"]
        .search([("module", "=", "wave_accounting_integration"), ("model", "=", "ir.model")])
        .mapped("res_id")
    )
    names = env["ir.model"].browse(model_ids).mapped("model")
    # ir.model.data also names the standard models the addon extends: keep its own.
    return sorted(
        name
        for name in names
        if name.startswith("wave.") and name in env and not env[name]._abstract
    )


@tagged("post_install", "-at_install")
class TestAccessMatrix(WaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.public_user = cls.env.ref("base.public_user")
        cls.roles = {
            "wave administrator": cls.wave_admin,
            "wave user": cls.wave_accountant,
            "plain accountant": cls.plain_accountant,
            "portal": cls.portal_user,
            "public": cls.public_user,
        }

    def test_every_model_has_an_expectation(self):
        models = addon_models(self.env)
        self.assertIn("wave.api", models)
        missing = sorted(set(models) - set(EXPECTED))
        self.assertFalse(missing, f"models without an expected access row: {missing}")

    def test_model_access_matrix(self):
        mismatches = []
        checked = 0
        for model in addon_models(self.env):
            if model not in EXPECTED:
                continue
            admin, user = EXPECTED[model]
            expected_by_role = {
                "wave administrator": admin,
                "wave user": user,
                "plain accountant": "",
                "portal": "",
                "public": "",
            }
            for role, user_record in self.roles.items():
                Model = self.env[model].with_user(user_record)
                for letter, operation in OPERATIONS.items():
                    expected = letter in expected_by_role[role]
                    actual = Model.has_access(operation)
                    checked += 1
                    if actual != expected:
                        mismatches.append(f"{model} {role} {operation}: {actual} != {expected}")
        self.assertFalse(mismatches, "\n".join(mismatches))
        self.assertGreaterEqual(checked, len(EXPECTED) * 5 * 4)

    def test_outsiders_get_access_errors(self):
        """The ORM refuses, not just reports: search and create raise for outsiders."""
        for role in ("plain accountant", "portal", "public"):
            for model in addon_models(self.env):
                with self.subTest(role=role, model=model), self.assertRaises(AccessError):
                    self.env[model].with_user(self.roles[role]).search([], limit=1)

    def test_secret_fields_for_administrators_only(self):
        secrets = {}
        for model in addon_models(self.env):
            for name, field in self.env[model]._fields.items():
                if field.groups and WAVE_ADMIN in field.groups.split(","):
                    secrets.setdefault(model, []).append(name)
        self.assertIn("client_secret", secrets.get("wave.api", []))
        self.assertIn("webhook_secret", secrets.get("wave.api", []))
        for model, names in secrets.items():
            for role, user in self.roles.items():
                described = self.env[model].with_user(user).fields_get(attributes=["type"])
                for name in names:
                    with self.subTest(model=model, field=name, role=role):
                        if role == "wave administrator":
                            self.assertIn(name, described)
                        else:
                            self.assertNotIn(name, described)
        # On a real record: administrators read every secret, Wave users none.
        names = secrets["wave.api"]
        values = self.connection.with_user(self.wave_admin).read(names)[0]
        self.assertEqual(values["client_secret"], "client-secret-SECRET")
        user_values = self.connection.with_user(self.wave_accountant).read()[0]
        self.assertFalse(set(names) & set(user_values))
        for name in names:
            with self.subTest(field=name), self.assertRaises(AccessError):
                self.connection.with_user(self.wave_accountant).read([name])


@tagged("post_install", "-at_install")
class TestRoutesWithoutCredentials(WaveCommon, HttpCase):
    def _wave_routes(self):
        routes = []
        # routing_map() finds its registry by the thread's database name, as in a request.
        thread = threading.current_thread()
        previous = getattr(thread, "dbname", None)
        thread.dbname = self.env.cr.dbname
        try:
            rules = list(self.env["ir.http"].routing_map().iter_rules())
        finally:
            if previous is None:
                del thread.dbname
            else:
                thread.dbname = previous
        for rule in rules:
            if not rule.rule.startswith("/wave"):
                continue
            values = {}
            for argument in rule.arguments:
                converter = rule._converters[argument]
                try:
                    values[argument] = converter.to_python(str(self.connection.id))
                except ValueError:  # a converter that takes no number
                    values[argument] = converter.to_python("x")
            _domain, path = rule.build(values, append_unknown=False)
            methods = sorted((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"})
            routes.append((rule.rule, path, methods or ["GET"]))
        return routes

    def _check(self, session, who):
        routes = self._wave_routes()
        self.assertTrue(any(rule == "/wave/webhook/<int:connection_id>" for rule, *_ in routes))
        for rule, path, methods in routes:
            for method in methods:
                response = session.request(
                    method, self.base_url() + path, data=b"{}", allow_redirects=False, timeout=30
                )
                with self.subTest(who=who, route=rule, method=method):
                    location = response.headers.get("Location", "")
                    if response.is_redirect:
                        self.assertIn("/web/login", location)
                    else:
                        self.assertIn(response.status_code, REFUSED, response.text[:200])
                    if rule.startswith("/wave/webhook/"):
                        self.assertEqual(response.status_code, 401)
                    self.assertNotIn(b"SECRET", response.content)
        return routes

    def test_anonymous(self):
        session = requests.Session()
        # The HttpCase cookie routes the request to the test transaction.
        session.cookies.update(self.opener.cookies)
        routes = self._check(session, "anonymous")
        self.assertGreaterEqual(len(routes), 2)

    def test_portal(self):
        self.authenticate("wave_portal", "wave_portal")
        self._check(self.opener, "portal")
