# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Record-level security: company A's records against users of company A and B.

* Record matrix: every ``wave.*`` model with a company or a connection (found in
  the registry: a new model without a row here fails) x every user who must not
  touch company A's records x read / search / write / unlink / every button: each
  is refused (or finds nothing) and the database is unchanged (row snapshots).
* Field-write matrix: every server-owned field, written by Wave users and
  administrators of the record's own company (ORM and JSON-RPC): refused, unchanged.
* Replay: refused while the direction's switch is off.
"""

import json

from odoo import fields
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import WAVE_ADMIN, WAVE_USER, WaveCommon

REFUSED = (AccessError, UserError, ValidationError, MissingError)

#: model -> values of company A's fixture record (connection_id added when the
#: model has one), values a refused user tries to write.
ROWS = {
    "wave.api": ({}, {"name": "Taken over"}),
    "wave.sync.job": (
        {"name": "Run A", "kind": "invoices", "direction": "inbound", "state": "running"},
        {"name": "Forged"},
    ),
    "wave.account.map": (
        {"wave_account_id": "ACC-A", "wave_account_name": "Sales A"},
        {"wave_account_name": "Forged"},
    ),
    "wave.partner.map": (
        {"wave_type": "customer", "wave_id": "CUST-A", "wave_name": "Customer A"},
        {"wave_name": "Forged"},
    ),
    "wave.quarantine": (
        {
            "name": "INV A",
            "direction": "inbound",
            "record_type": "Invoice",
            "wave_id": "INV-A",
            "reasons": "Wave account Sales is not mapped",
            "payload": {"id": "INV-A"},
        },
        {"suggested_fix": "Forged"},
    ),
    "wave.import.cursor": ({"entity": "invoices"}, {"known_total": 99}),
    "wave.outbound.ledger": (
        {
            "external_id": "odoo-test-record-access-a",
            "kind": "customer",
            "res_model": "res.partner",
            "res_id": 1,
            "state": "outcome_unknown",
        },
        {"wave_id": "Forged"},
    ),
    "wave.parity.report": (
        {"date_from": "2026-01-01", "date_to": "2026-01-31"},
        {"name": "Forged"},
    ),
    "wave.parity.line": ({"category": "status_count", "key": "PAID"}, {"key": "Forged"}),
    "wave.request.log": ({"operation_name": "Test"}, {"operation_name": "Forged"}),
    "wave.webhook.event": ({"event_id": "evt-record-access-a"}, {"state": "ignored"}),
    "wave.rate.bucket": ({"key": "connection:record-access-a"}, {"tokens": 99.0}),
    "wave.audit.log": ({"res_model": "wave.api", "action": "test"}, {"note": "Forged"}),
    "wave.dashboard": ({}, {"period_days": 99}),
    "wave.golive.checklist": ({}, {"connection_id": False}),
    "wave.parity.report.wizard": ({}, {"date_to": "2026-12-31"}),
    "wave.business.select": ({}, {"connection_id": False}),
    "wave.historical.import": ({}, {"date_to": "2026-12-31"}),
    "wave.secret.rotation": ({}, {"overlap_hours": 1}),
    "wave.export.file.import": ({"data_file": "eA=="}, {"data_file": "eQ=="}),
}

#: Buttons that only open a screen (they change nothing, and find nothing of A's).
NAVIGATION = {
    "action_open",
    "action_open_reports",
    "action_open_lines",
    "action_open_differences",
    "action_open_record",
    "action_view_request_logs",
    "action_refresh",
    "action_open_account_map",
    "action_open_golive",
    "action_open_partner_map",
    "action_open_quarantine",
    "action_open_running",
    "action_open_sync_graph",
}

#: model -> server-owned fields a user writes (the value is computed per type).
SERVER_FIELDS = {
    "wave.quarantine": (
        "direction",
        "record_type",
        "res_model",
        "res_id",
        "wave_id",
        "payload",
        "connection_id",
        "attempts",
        "sync_job_id",
        "reasons",
        "state",
    ),
    "wave.outbound.ledger": (
        "external_id",
        "state",
        "res_model",
        "res_id",
        "payload_hash",
        "connection_id",
        "kind",
        "attempts",
    ),
    "wave.sync.job": (
        "name",
        "state",
        "error_message",
        "records_failed",
        "connection_id",
        "kind",
        "direction",
        "parent_id",
    ),
    "wave.webhook.event": ("state", "event_id", "connection_id", "error"),
    "wave.request.log": ("operation_name", "connection_id"),
    "wave.import.cursor": ("watermark", "known_total", "connection_id", "entity"),
}


def scoped_models(env):
    """Every concrete ``wave.*`` model with a company or a connection."""
    return sorted(
        name
        for name, model in env.registry.items()
        if name.startswith("wave.")
        and not model._abstract
        and ("company_id" in model._fields or "connection_id" in model._fields)
    )


class RecordAccessCommon(WaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b = cls.env["res.company"].create({"name": "Wave Record Access B"})
        cls.connection.sudo().write({"state": "connected"})
        cls.connection_b = (
            cls.env["wave.api"]
            .sudo()
            .create({"name": "Wave B", "company_id": cls.company_b.id, "client_id": "b"})
        )
        groups = {
            "wave user": f"base.group_user,account.group_account_user,{WAVE_USER}",
            "wave admin": (
                f"base.group_user,base.group_system,account.group_account_manager,{WAVE_ADMIN}"
            ),
            "plain accountant": "base.group_user,account.group_account_user",
            "portal": "base.group_portal",
        }
        cls.outsiders = {
            f"{role} of B": new_test_user(
                cls.env,
                login=f"record_access_b_{index}",
                groups=group,
                company_id=cls.company_b.id,
                company_ids=[cls.company_b.id],
            )
            for index, (role, group) in enumerate(groups.items())
        }
        cls.outsiders["plain accountant of A"] = cls.plain_accountant
        cls.outsiders["portal of A"] = cls.portal_user
        cls.records = cls._make_records()

    @classmethod
    def _make_records(cls):
        # sudo: fixtures, written as the sync writes them.
        records = {"wave.api": cls.connection.sudo()}
        for model, (vals, _write) in ROWS.items():
            if model == "wave.api" or model not in cls.env:
                continue
            Model = cls.env[model].sudo()
            vals = dict(vals)
            if "connection_id" in Model._fields:
                vals["connection_id"] = cls.connection.id
            if model == "wave.parity.line":
                vals["report_id"] = records["wave.parity.report"].id
            if model == "wave.audit.log":
                vals.update(res_id=cls.connection.id, company_id=cls.company_a.id)
            records[model] = Model.create(vals)
        return records

    def _company_a_domain(self, Model):
        if Model._name == "wave.api":
            return [("id", "=", self.connection.id)]
        if "connection_id" in Model._fields:
            return [("connection_id", "=", self.connection.id)]
        return [("company_id", "=", self.company_a.id)]

    def _snapshot(self):
        """Every stored column of every row of company A of the scoped models."""
        self.env.flush_all()
        self.env.invalidate_all()
        snapshot = {}
        for model in scoped_models(self.env):
            Model = self.env[model].sudo().with_context(active_test=False)
            names = [
                name
                for name, field in Model._fields.items()
                if field.store and field.type not in ("one2many", "many2many")
            ]
            snapshot[model] = json.dumps(
                Model.search(self._company_a_domain(Model), order="id").read(names),
                default=str,
                sort_keys=True,
            )
        return snapshot

    def _as(self, user, records):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)


@tagged("post_install", "-at_install")
class TestRecordAccessMatrix(RecordAccessCommon):
    def test_every_scoped_model_has_a_row(self):
        models = scoped_models(self.env)
        self.assertIn("wave.webhook.event", models)
        self.assertEqual(sorted(set(models) - set(ROWS)), [], "models without a row")
        for model in models:
            self.assertIn(model, self.records)

    def _buttons(self, model):
        """The public buttons (``action_*``) the addon defines on ``model``."""
        cls = type(self.env[model])
        return sorted(
            name
            for name in dir(cls)
            if name.startswith("action_")
            and callable(getattr(cls, name))
            and "wave_accounting_integration" in getattr(getattr(cls, name), "__module__", "")
        )

    def _attempts(self, model, record):
        write_vals = ROWS[model][1]
        yield "read", lambda r: r.read(list(write_vals) or ["id"])
        yield "write", lambda r: r.write(write_vals)
        yield "unlink", lambda r: r.unlink()
        for button in self._buttons(model):
            yield button, lambda r, b=button: getattr(r, b)()

    def test_other_users_cannot_touch_company_a_records(self):
        before = self._snapshot()
        tried = 0
        for model in scoped_models(self.env):
            record = self.records[model]
            for who, user in self.outsiders.items():
                found = self.env[model].with_user(user)
                with self.subTest(model=model, who=who, operation="search"):
                    try:
                        ids = found.search([("id", "=", record.id)]).ids
                    except AccessError:
                        ids = []
                    self.assertEqual(ids, [])
                for operation, attempt in self._attempts(model, record):
                    tried += 1
                    with self.subTest(model=model, who=who, operation=operation):
                        try:
                            attempt(self._as(user, record))
                        except REFUSED:
                            continue
                        self.assertIn(operation, NAVIGATION, "not refused")
        self.assertGreater(tried, len(ROWS) * len(self.outsiders) * 3)
        self.assertEqual(self._snapshot(), before, "a refused user changed the database")

    def test_own_company_wave_user_sees_own_records(self):
        """The rules keep the company's own records visible to its Wave user."""
        for model in ("wave.sync.job", "wave.quarantine", "wave.webhook.event"):
            with self.subTest(model=model):
                Model = self.env[model].with_user(self.wave_accountant)
                self.assertEqual(
                    Model.search([("id", "=", self.records[model].id)]).ids,
                    [self.records[model].id],
                )

    def test_records_cannot_be_made_or_moved_into_another_company(self):
        admin_b = self.outsiders["wave admin of B"]
        mapping = self.records["wave.account.map"]
        with self.assertRaises(AccessError):
            self._as(self.wave_admin, mapping).write({"connection_id": self.connection_b.id})
        with self.assertRaises(AccessError):
            self._as(admin_b, self.env["wave.account.map"]).create(
                {
                    "connection_id": self.connection.id,
                    "wave_account_id": "ACC-X",
                    "wave_account_name": "Planted",
                }
            )
        with self.assertRaises(AccessError):
            self._as(admin_b, self.env["wave.dashboard"]).create(
                {"connection_id": self.connection.id}
            )
        self.assertEqual(mapping.connection_id, self.connection)

    def test_dashboard_of_own_company_only(self):
        """A dashboard shows the user's own connection, never another company's."""
        admin_b = self.outsiders["wave admin of B"]
        action = self._as(admin_b, self.env["wave.dashboard"]).action_open()
        dashboard = self.env["wave.dashboard"].browse(action.get("res_id"))
        if dashboard:
            self.assertEqual(dashboard.connection_id, self.connection_b)
        with self.assertRaises(AccessError):
            self._as(admin_b, self.records["wave.dashboard"]).read(["business_name"])

    def test_admin_buttons_refused_to_wave_users(self):
        """*Import changes now* and *Resume*: Wave users are refused on the server."""
        user = self.wave_accountant
        before = self._snapshot()
        attempts = {
            "poll now": lambda: self._as(user, self.connection).action_poll_now(),
            "resume": lambda: self._as(user, self.records["wave.sync.job"]).action_resume(),
        }
        for name, attempt in attempts.items():
            with self.subTest(button=name):
                with self.assertRaisesRegex(AccessError, "Only Wave administrators"):
                    attempt()
        self.assertEqual(self._snapshot(), before)


@tagged("post_install", "-at_install")
class TestServerFieldWrites(RecordAccessCommon, HttpCase):
    def _forged_value(self, record, name):
        field = record._fields[name]
        if name == "connection_id":
            return self.connection_b.id
        if field.type == "many2one":
            return self.records["wave.sync.job"].id
        if name == "res_model":
            return "res.users"
        if field.type == "many2one_reference":
            return 2
        if field.type == "selection":
            values = [key for key, _label in field._description_selection(self.env)]
            return next(key for key in values if key != record[name])
        if field.type in ("integer", "float"):
            return 77
        if field.type == "json":
            return {"forged": True}
        if field.type == "datetime":
            return fields.Datetime.to_string(fields.Datetime.now())
        return "forged"

    def test_every_server_owned_field_refused_over_the_orm(self):
        before = self._snapshot()
        checked = 0
        for model, names in SERVER_FIELDS.items():
            record = self.records[model]
            # The outbound engine still writes the ledger as the administrator whose
            # job runs: the ledger refuses Wave users only.
            users = [self.wave_accountant]
            if model != "wave.outbound.ledger":
                users.append(self.wave_admin)
            for user in users:
                for name in names:
                    value = self._forged_value(record, name)
                    with self.subTest(model=model, field=name, user=user.login):
                        with self.assertRaises(AccessError):
                            self._as(user, record).write({name: value})
                        checked += 1
                if self.env[model].with_user(user).has_access("create"):
                    vals = {name: self._forged_value(record, name) for name in names}
                    vals["connection_id"] = self.connection.id
                    with self.subTest(model=model, create=user.login):
                        with self.assertRaises(AccessError):
                            self._as(user, self.env[model]).create(vals)
        self.assertGreaterEqual(checked, sum(len(names) for names in SERVER_FIELDS.values()))
        self.assertEqual(self._snapshot(), before)

    def test_ledger_wave_id_typed_only_before_confirming(self):
        entry = self.records["wave.outbound.ledger"]
        self._as(self.wave_accountant, entry).write({"wave_id": "Q3VzdG9tZXI6MQ=="})
        self.assertEqual(entry.wave_id, "Q3VzdG9tZXI6MQ==")
        entry.sudo().state = "confirmed"
        with self.assertRaises(AccessError):
            self._as(self.wave_accountant, entry).write({"wave_id": "forged"})

    def _call_kw(self, model, method, args):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {"model": model, "method": method, "args": args, "kwargs": {}},
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_server_owned_fields_refused_over_json_rpc(self):
        self.authenticate("wave_accountant", "wave_accountant")
        entry = self.records["wave.quarantine"]
        run = self.records["wave.sync.job"]
        before = self._snapshot()
        attacks = [
            ("wave.quarantine", entry, {"direction": "outbound", "res_model": "res.partner"}),
            ("wave.sync.job", run, {"state": "failed", "error_message": "Click here"}),
            ("wave.outbound.ledger", self.records["wave.outbound.ledger"], {"state": "failed"}),
        ]
        for model, record, vals in attacks:
            with self.subTest(model=model):
                body = self._call_kw(model, "write", [record.ids, vals])
                self.assertIn("error", body, body)
                self.assertIn("AccessError", body["error"]["data"]["name"])
        self.assertEqual(self._snapshot(), before)


@tagged("post_install", "-at_install")
class TestReplaySwitches(RecordAccessCommon):
    def test_inbound_replay_refused_when_import_is_off(self):
        entry = self.records["wave.quarantine"]
        self.connection.sudo().sync_inbound = False
        before = self._snapshot()
        with self.assertRaisesRegex(UserError, "Import from Wave is switched off"):
            self._as(self.wave_accountant, entry).action_replay()
        self.assertEqual(self._snapshot(), before)

    def test_outbound_replay_refused_when_export_is_off(self):
        partner = self.env["res.partner"].create({"name": "Not for Wave"})
        entry = self.env["wave.quarantine"]._open_or_bump(
            self.connection, "outbound", "res.partner", "test", record=partner
        )
        self.connection.sudo().sync_outbound = False
        before = self._snapshot()
        with self.assertRaisesRegex(UserError, "Export to Wave is switched off"):
            self._as(self.wave_accountant, entry).action_replay()
        self.assertEqual(self._snapshot(), before)
