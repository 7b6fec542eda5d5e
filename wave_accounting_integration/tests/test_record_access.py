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

import hashlib
import hmac
import json
import threading

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL

from . import security_tally as tally
from .common import WAVE_ADMIN, WAVE_USER, WaveCommon
from .security_tally import TallyMixin

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
    # Lines of wizards (their company is their wizard's).
    "wave.business.select.line": (
        {"business_id": "QnVzaW5lc3M6QQ==", "name": "Business A"},
        {"name": "Forged"},
    ),
    "wave.golive.checklist.line": (
        {"code": "connection", "name": "Connected", "state": "ok"},
        {"message": "Forged"},
    ),
    "wave.export.file.import.message": (
        {"level": "error", "reason": "Bad row"},
        {"reason": "Forged"},
    ),
}
#: line model -> (parent field, parent model)
PARENTS = {
    "wave.parity.line": ("report_id", "wave.parity.report"),
    "wave.business.select.line": ("wizard_id", "wave.business.select"),
    "wave.golive.checklist.line": ("checklist_id", "wave.golive.checklist"),
    "wave.export.file.import.message": ("wizard_id", "wave.export.file.import"),
}

#: Models outside ``wave.*`` whose views carry Wave buttons -> the buttons.
SETTINGS_MODELS = {
    "res.config.settings": (
        "action_wave_connect",
        "action_wave_test_connection",
        "action_wave_choose_business",
        "action_wave_disconnect",
    ),
}


class _Worked(Exception):
    """Raised to roll back an attempt that worked."""


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
    "action_open_runs",
    "action_open_failed_runs",
    "action_open_failed_records",
    "action_open_parity",
    "action_open_quotations_synced",
    "action_open_quotations_pending",
    "action_fix",
}

#: Fields no user writes, whatever the model (Odoo's own bookkeeping and chatter).
NOT_OWNED = {"id", "create_uid", "create_date", "write_uid", "write_date", "display_name"}


def server_owned_fields(env):
    """``{model: [field, ...]}``: every field the server owns, from the registry.

    A model that inherits ``wave.server.fields.mixin`` names them in
    ``_wave_server_fields`` (``"__all__"``: every field it stores); a new model or
    field is in the matrix without a line here.
    """
    result = {}
    for name, model in env.registry.items():
        if model._abstract or "wave.server.fields.mixin" not in model._inherit_module:
            continue
        owned = model._wave_server_fields
        names = sorted(
            field_name
            for field_name, field in model._fields.items()
            if (owned == "__all__" or field_name in owned)
            and field_name not in NOT_OWNED
            and field.store
            and (not field.compute or field.inverse)
            and field.type not in ("one2many", "many2many")
            and not field_name.startswith(("message_", "activity_"))
        )
        if names:
            result[name] = names
    return result


def scoped_models(env):
    """Every concrete ``wave.*`` model with a company or a connection."""
    return sorted(
        name
        for name, model in env.registry.items()
        if name.startswith("wave.")
        and not model._abstract
        and ("company_id" in model._fields or "connection_id" in model._fields)
    )


def matrix_models(env):
    """Every concrete ``wave.*`` model of the registry (the record matrix's rows)."""
    return sorted(
        name
        for name, model in env.registry.items()
        if name.startswith("wave.") and not model._abstract
    )


def view_buttons(env, groups=None):
    """``{(model, method)}`` of every ``type="object"`` button in the addon's views
    (with ``groups``: only the buttons the views show to that group only).

    A button inside an embedded list (``<field name="line_ids">``) is a button of
    the field's model.
    """
    from lxml import etree

    view_ids = (
        env["ir.model.data"]
        .search([("module", "=", "wave_accounting_integration"), ("model", "=", "ir.ui.view")])
        .mapped("res_id")
    )
    found = set()
    for view in env["ir.ui.view"].browse(view_ids):
        arch = etree.fromstring(view.arch_db)
        for button in arch.iter("button"):
            if button.get("type") != "object":
                continue
            if groups and groups not in (button.get("groups") or "").split(","):
                continue
            model = view.model
            path = []
            parent = button.getparent()
            while parent is not None:
                if parent.tag == "field":
                    path.append(parent.get("name"))
                parent = parent.getparent()
            for name in reversed(path):
                field = env[model]._fields.get(name)
                if field is not None and field.relational:
                    model = field.comodel_name
            found.add((model, button.get("name")))
    return found


class RecordAccessCommon(WaveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company_data["company"]
        cls.company_b = cls.env["res.company"].create({"name": "Wave Record Access B"})
        # Buttons that talk to Wave must not reach the internet from the tests: A's
        # endpoints are a loopback port where nothing listens (connection refused).
        cls.connection.sudo().write(
            {
                "state": "connected",
                "allow_insecure_loopback": True,
                "api_url": "http://127.0.0.1:9/graphql/public",
                "token_url": "http://127.0.0.1:9/oauth2/token/",
                "authorize_url": "http://127.0.0.1:9/oauth2/authorize/",
            }
        )
        cls.connection_b = (
            cls.env["wave.api"]
            .sudo()
            .create(
                {
                    "name": "Wave B",
                    "company_id": cls.company_b.id,
                    "client_id": "b",
                    "webhook_secret": "webhook-secret-of-B",
                    "allow_insecure_loopback": True,
                    "api_url": "http://127.0.0.1:9/graphql/public",
                    "token_url": "http://127.0.0.1:9/oauth2/token/",
                    "authorize_url": "http://127.0.0.1:9/oauth2/authorize/",
                }
            )
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
            if model in PARENTS:
                parent_field, parent_model = PARENTS[model]
                vals[parent_field] = records[parent_model].id
            if model == "wave.audit.log":
                vals.update(res_id=cls.connection.id, company_id=cls.company_a.id)
            records[model] = Model.create(vals)
        return records

    def _snapshot(self):
        """Company A's rows of every matrix model, and the side effects a button could
        leave (queue jobs, messages, activities), read with SQL (all columns)."""
        self.env.flush_all()
        snapshot = {}
        for model in matrix_models(self.env):
            Model = self.env[model]
            if model == "wave.api":
                where = SQL("id = %s", self.connection.id)
            elif "connection_id" in Model._fields and Model._fields["connection_id"].store:
                where = SQL("connection_id = %s", self.connection.id)
            elif "company_id" in Model._fields and Model._fields["company_id"].store:
                where = SQL("company_id = %s", self.company_a.id)
            else:  # wizard lines: only company A's fixtures exist
                where = SQL("TRUE")
            self.env.cr.execute(
                SQL(
                    "SELECT row_to_json(t)::text FROM %s t WHERE %s ORDER BY id",
                    SQL.identifier(Model._table),
                    where,
                )
            )
            snapshot[model] = [row[0] for row in self.env.cr.fetchall()]
        for table in ("queue_job", "mail_message", "mail_activity"):
            self.env.cr.execute(SQL("SELECT count(*), max(id) FROM %s", SQL.identifier(table)))
            snapshot[table] = self.env.cr.fetchone()
        return snapshot

    def _as(self, user, records):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)


@tagged("post_install", "-at_install")
class TestRecordAccessMatrix(RecordAccessCommon):
    def test_every_model_and_button_has_a_row(self):
        """A new model, or a button in a view, is in the matrix or this fails."""
        models = matrix_models(self.env)
        self.assertIn("wave.webhook.event", models)
        self.assertEqual(sorted(set(models) - set(ROWS)), [], "models without a row")
        for model in models:
            self.assertIn(model, self.records)
        buttons = view_buttons(self.env)
        self.assertIn(("wave.business.select.line", "action_select"), buttons)
        missing = sorted(
            (model, name)
            for model, name in buttons
            if model not in SETTINGS_MODELS
            and (model not in ROWS or name not in self._buttons(model))
        )
        self.assertEqual(missing, [], "view buttons the matrix does not press")
        for model in {model for model, _name in buttons} & set(SETTINGS_MODELS):
            names = {name for m, name in buttons if m == model}
            self.assertLessEqual(names, set(SETTINGS_MODELS[model]), "settings buttons")

    def _buttons(self, model):
        """The buttons of ``model``: its views' object buttons and every public
        ``action_*`` method the addon defines on it."""
        cls = type(self.env[model])
        methods = {
            name
            for name in dir(cls)
            if name.startswith("action_")
            and callable(getattr(cls, name))
            and "wave_accounting_integration" in getattr(getattr(cls, name), "__module__", "")
        }
        return sorted(methods | {name for m, name in view_buttons(self.env) if m == model})

    def _attempts(self, model, record):
        write_vals = ROWS[model][1]
        yield "read", lambda r: r.read(list(write_vals) or ["id"])
        yield "write", lambda r: r.write(write_vals)
        yield "unlink", lambda r: r.unlink()
        for button in self._buttons(model):
            yield button, lambda r, b=button: getattr(r, b)()

    def _attempt(self, attempt):
        """Run ``attempt`` in a savepoint rolled back afterwards: ``(outcome, error)``.

        Every attempt is rolled back, so the database stays the one of the test's
        ``self._baseline`` snapshot. ``refused``: an access/user/validation error
        and the database unchanged;
        ``accepted``: it worked (then rolled back); ``leak``: refused but something
        changed; ``server_error``: any other exception.
        """
        before = self._baseline
        try:
            with self.env.cr.savepoint():
                attempt()
                self.env.flush_all()
                raise _Worked
        except _Worked:
            outcome, error = "accepted", None
        except REFUSED as refusal:
            changed = self._snapshot() != before
            outcome, error = ("leak" if changed else "refused"), refusal
        except Exception as failure:  # any other error is a finding
            outcome, error = "server_error", failure
        self.env.invalidate_all()
        return outcome, error

    def test_other_users_cannot_touch_company_a_records(self):
        before = self._snapshot()
        self._baseline = before
        tried = 0
        for model in matrix_models(self.env):
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
                    outcome, error = self._attempt(
                        lambda a=attempt, u=user, r=record: a(self._as(u, r))
                    )
                    if outcome == "accepted" and operation in NAVIGATION:
                        outcome = "refused"  # opens a screen: nothing of A's found, nothing done
                    tally.record("record or button of another company or role", outcome)
                    with self.subTest(model=model, who=who, operation=operation):
                        self.assertEqual(outcome, "refused", error)
        self.assertGreater(tried, len(ROWS) * len(self.outsiders) * 3)
        self.assertEqual(self._snapshot(), before, "a refused user changed the database")

    def test_own_company_users_work_or_are_refused_cleanly(self):
        """Company A's Wave user and administrator on A's records: every operation and
        button either works or is refused with nothing changed, never a crash."""
        findings, outcomes = [], {}
        admin_only = view_buttons(self.env, groups=WAVE_ADMIN)
        self.assertIn(("wave.api", "action_poll_now"), admin_only)
        self._baseline = self._snapshot()
        for model in matrix_models(self.env):
            record = self.records[model]
            for who, user in (
                ("wave user of A", self.wave_accountant),
                ("wave admin of A", self.wave_admin),
            ):
                for operation, attempt in self._attempts(model, record):
                    outcome, error = self._attempt(
                        lambda a=attempt, u=user, r=record: a(self._as(u, r))
                    )
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                    if who == "wave user of A" and (model, operation) in admin_only:
                        # The screen shows it to administrators only: the server refuses too.
                        tally.record("administrator button pressed by a Wave user", outcome)
                        if outcome != "refused":
                            findings.append((model, who, operation, outcome, "admin only"))
                        continue
                    tally.record("record or button of the own company", outcome)
                    if outcome not in ("accepted", "refused"):
                        findings.append((model, who, operation, outcome, repr(error)[:200]))
        self.assertFalse(findings, findings)
        # Both happen: the own company's users work, and some things stay refused
        # (Wave users cannot delete logs, nobody edits the audit log).
        self.assertTrue(outcomes.get("accepted") and outcomes.get("refused"), outcomes)

    def test_settings_buttons_act_on_the_own_company_only(self):
        """The settings screen's Wave buttons, pressed by users of company B, leave
        company A's connection alone."""
        before = self._baseline = self._snapshot()
        for who, user in self.outsiders.items():
            for model, names in SETTINGS_MODELS.items():
                for name in names:

                    def press(u=user, m=model, n=name):
                        getattr(self._as(u, self.env[m]).create({}), n)()

                    outcome, error = self._attempt(press)
                    if outcome == "accepted":
                        # Worked on the user's own company: A's rows are the same.
                        outcome = "refused"
                    tally.record("settings button of another company", outcome)
                    with self.subTest(who=who, button=name):
                        self.assertIn(outcome, ("refused",), error)
        self.assertEqual(self._snapshot(), before)

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

    def _count(self, query, *params):
        self.env.flush_all()
        self.env.cr.execute(query, params)
        return self.env.cr.fetchone()[0]

    def test_dashboard_figures_of_own_company_only(self):
        """Data in both companies: each company's dashboard counts its own (checked
        against SQL counts), never the other company's or the sum."""
        Quarantine = self.env["wave.quarantine"].sudo()  # sudo: fixtures of the sync
        for connection, count in ((self.connection, 2), (self.connection_b, 5)):
            for index in range(count):
                Quarantine.create(
                    {
                        "connection_id": connection.id,
                        "name": f"Q{index}",
                        "direction": "inbound",
                        "record_type": "Invoice",
                        "wave_id": f"Q-{connection.id}-{index}",
                        "reasons": "Unmapped",
                    }
                )
            for index in range(count + 1):
                self.env["wave.account.map"].sudo().create(
                    {
                        "connection_id": connection.id,
                        "wave_account_id": f"ACC-{connection.id}-{index}",
                        "wave_account_name": f"Account {index}",
                    }
                )
            self.env["wave.sync.job"].sudo().create(
                [
                    {
                        "connection_id": connection.id,
                        "name": f"Run {index}",
                        "kind": "invoices",
                        "direction": "inbound",
                        "state": "running",
                    }
                    for index in range(count)
                ]
            )
        self.connection_b.sudo().write(
            {"state": "connected", "access_token": "b-token", "business_id": "QnVzaW5lc3M6Qg=="}
        )
        # Queue jobs of both companies (enqueued, not run).
        (self.connection | self.connection_b).sudo()._enqueue_poll(trigger="cron")
        self.connection_b.sudo()._enqueue_poll(trigger="manual")
        viewers = {
            self.connection: self.wave_accountant,
            self.connection_b: self.outsiders["wave user of B"],
        }
        seen = {}
        for connection, user in viewers.items():
            dashboard = self._as(user, self.env["wave.dashboard"]).create(
                {"connection_id": connection.id}
            )
            expected = {
                "quarantine_count": self._count(
                    "SELECT count(*) FROM wave_quarantine WHERE connection_id = %s "
                    "AND state = 'open'",
                    connection.id,
                ),
                "unmapped_account_count": self._count(
                    "SELECT count(*) FROM wave_account_map WHERE connection_id = %s "
                    "AND account_id IS NULL AND NOT coalesce(wave_archived, false)",
                    connection.id,
                ),
                "running_count": self._count(
                    "SELECT count(*) FROM wave_sync_job WHERE connection_id = %s "
                    "AND parent_id IS NULL AND state IN ('pending', 'running')",
                    connection.id,
                ),
                "queue_depth": self._count(
                    "SELECT count(*) FROM queue_job WHERE company_id = %s "
                    "AND channel LIKE 'root.wave%%' AND state IN "
                    "('wait_dependencies', 'pending', 'enqueued', 'started', 'failed')",
                    connection.company_id.id,
                ),
            }
            values = dashboard.read([*expected, "business_name", "company_id"])[0]
            with self.subTest(company=connection.company_id.name):
                self.assertEqual({key: values[key] for key in expected}, expected)
                self.assertEqual(values["company_id"][0], connection.company_id.id)
                self.assertEqual(values["business_name"], connection.business_name)
            seen[connection] = expected
        # The figures differ per company (the fixtures are not symmetrical) and none
        # is the sum of both.
        for key in seen[self.connection]:
            self.assertNotEqual(seen[self.connection][key], seen[self.connection_b][key], key)
            self.assertTrue(seen[self.connection][key], key)

    def test_sync_write_paths_check_the_company(self):
        """The sync's superuser paths refuse records of a company the job's user is
        not allowed in: ledger and quarantine writes and creates."""
        before = self._snapshot()
        admin_b = self.outsiders["wave admin of B"]
        entry = self.records["wave.outbound.ledger"]
        with self.assertRaises(AccessError):
            self._as(admin_b, entry)._wave_sync_write({"state": "failed"})
        with self.assertRaises(AccessError):
            self._as(admin_b, self.env["wave.quarantine"])._wave_sync_create(
                [{"connection_id": self.connection.id, "name": "X", "direction": "inbound"}]
            )
        self.assertEqual(self._snapshot(), before)
        # The own company's job writes (as its administrator, not superuser).
        self._as(self.wave_admin, entry)._wave_sync_write({"state": "failed"})
        self.assertEqual(entry.state, "failed")

    def test_bind_write_checks_the_company(self):
        """Wave ids are bound only on documents of the connection's company."""
        partner_a = self.env["res.partner"].create(
            {"name": "Customer of A", "company_id": self.company_a.id}
        )
        with self.assertRaises(AccessError):
            self.env["wave.outbound.ledger.service"]._bind_write(
                self.connection_b, partner_a, {"wave_id": "Q3VzdG9tZXI6OTk="}
            )
        self.assertFalse(partner_a.wave_id)
        self.env["wave.outbound.ledger.service"]._bind_write(
            self.connection, partner_a, {"wave_id": "Q3VzdG9tZXI6OTk="}
        )
        self.assertEqual(partner_a.wave_id, "Q3VzdG9tZXI6OTk=")

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
class TestServerFieldWrites(TallyMixin, RecordAccessCommon, HttpCase):
    """Every server-owned field of every model, written by every role: refused, unchanged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.roles = {
            "wave user of A": cls.wave_accountant,
            "wave admin of A": cls.wave_admin,
            **cls.outsiders,
        }
        # The ledger's Wave id may be typed in while an entry waits for confirmation
        # (tested below): the matrix writes to a confirmed entry, where it is owned.
        cls.records["wave.outbound.ledger"].sudo().state = "confirmed"

    def _forged_value(self, record, name):
        field = record._fields[name]
        if name == "connection_id":
            return self.connection_b.id
        if field.type == "many2one":
            other = self.env[field.comodel_name].sudo().with_context(active_test=False)
            return other.search([("id", "!=", record[name].id)], limit=1).id
        if name == "res_model":
            return "res.users"
        if field.type == "many2one_reference":
            return 2
        if field.type == "selection":
            values = [key for key, _label in field._description_selection(self.env)]
            return next(key for key in values if key != record[name])
        if field.type == "boolean":
            return not record[name]
        if field.type in ("integer", "float", "monetary"):
            return 77
        if field.type == "json":
            return {"forged": True}
        if field.type == "datetime":
            return "2020-02-02 02:02:02"
        if field.type == "date":
            return "2020-02-02"
        if field.type == "binary":
            return "Zm9yZ2Vk"
        return "forged"

    def _column(self, record, name):
        """The stored value, read with SQL (what the database holds)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE id = %s",
                SQL.identifier(name),
                SQL.identifier(record._table),
                record.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def test_matrix_covers_the_known_server_owned_fields(self):
        owned = server_owned_fields(self.env)
        for model, names in {
            "wave.quarantine": ("direction", "res_model", "res_id", "payload", "state"),
            "wave.outbound.ledger": ("external_id", "wave_id", "state", "saga_step"),
            "wave.sync.job": ("state", "error_message", "records_failed", "parent_id"),
            "wave.webhook.event": ("event_id", "state", "error"),
            "wave.import.cursor": ("watermark", "known_total"),
            "wave.request.log": ("operation_name",),
        }.items():
            with self.subTest(model=model):
                self.assertLessEqual(set(names), set(owned.get(model, ())))
        self.assertEqual(sorted(set(owned) - set(self.records)), [], "models without a fixture")

    def _refused(self, attempt):
        """Whether ``attempt`` raises an access, user or validation error (rolled back)."""
        try:
            with self.env.cr.savepoint():
                attempt()
                self.env.flush_all()
        except REFUSED:
            return True
        finally:
            self.env.invalidate_all()
        return False

    def test_every_server_owned_field_refused_over_the_orm(self):
        before = self._snapshot()
        checked = 0
        for model, names in server_owned_fields(self.env).items():
            record = self.records[model]
            for who, user in self.roles.items():
                for name in names:
                    value = self._forged_value(record, name)
                    stored = self._column(record, name)
                    with self.subTest(model=model, field=name, who=who):
                        refused = self._refused(
                            lambda u=user, r=record, n=name, v=value: self._as(u, r).write({n: v})
                        )
                        self.assertTrue(refused, "not refused")
                        self.assertEqual(self._column(record, name), stored)
                        checked += 1
                vals = {name: self._forged_value(record, name) for name in names}
                vals["connection_id"] = self.connection.id
                count = self.env[model].sudo().search_count([])
                with self.subTest(model=model, create=who):
                    refused = self._refused(
                        lambda u=user, m=model, v=vals: self._as(u, self.env[m]).create(v)
                    )
                    self.assertTrue(refused, "not refused")
                self.assertEqual(self.env[model].sudo().search_count([]), count)
        self.assertGreaterEqual(checked, 5 * 40)
        self.assertEqual(self._snapshot(), before)

    def test_ledger_wave_id_typed_only_before_confirming(self):
        entry = self.records["wave.outbound.ledger"]
        entry.sudo().state = "outcome_unknown"
        self._as(self.wave_accountant, entry).write({"wave_id": "Q3VzdG9tZXI6MQ=="})
        self.assertEqual(entry.wave_id, "Q3VzdG9tZXI6MQ==")
        entry.sudo().state = "confirmed"
        for user in (self.wave_accountant, self.wave_admin):
            with self.assertRaises(AccessError):
                self._as(user, entry).write({"wave_id": "forged"})
        self.assertEqual(self._column(entry, "wave_id"), "Q3VzdG9tZXI6MQ==")

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
        return response

    def _rpc_refused(self, response):
        """An RPC answer that carries an access, user or validation error."""
        if response.status_code != 200:
            return 400 <= response.status_code < 500
        name = ((response.json().get("error") or {}).get("data") or {}).get("name", "")
        return any(kind in name for kind in ("AccessError", "UserError", "ValidationError"))

    def test_every_server_owned_field_refused_over_json_rpc(self):
        """Real HTTP JSON-RPC (``/web/dataset/call_kw``): every role, every field."""
        owned = server_owned_fields(self.env)
        before = self._snapshot()
        failures, tried = [], 0
        for who, user in self.roles.items():
            self.authenticate(user.login, user.login)
            for model, names in owned.items():
                record = self.records[model]
                for name in names:
                    value = self._forged_value(record, name)
                    stored = self._column(record, name)
                    response = self._call_kw(model, "write", [record.ids, {name: value}])
                    refused = self._rpc_refused(response)
                    changed = self._column(record, name) != stored
                    outcome = tally.classify(refused, changed, response.status_code)
                    tally.record("server-owned field write over RPC", outcome)
                    tried += 1
                    if outcome != "refused":
                        failures.append((who, model, name, outcome, response.text[:160]))
                vals = {name: self._forged_value(record, name) for name in names}
                vals["connection_id"] = self.connection.id
                count = self.env[model].sudo().search_count([])
                response = self._call_kw(model, "create", [vals])
                changed = self.env[model].sudo().search_count([]) != count
                outcome = tally.classify(self._rpc_refused(response), changed, response.status_code)
                tally.record("server-owned record create over RPC", outcome)
                if outcome != "refused":
                    failures.append((who, model, "create", outcome, response.text[:160]))
        self.assertFalse(failures, failures[:10])
        self.assertGreaterEqual(tried, len(self.roles) * sum(map(len, owned.values())))
        self.assertEqual(self._snapshot(), before)


#: Every route of the addon -> what each session may get (``own admin``: company A's
#: administrator, for whom the route works on A's connection).
ROUTES = {
    "/wave/oauth/start": {"own admin": (302, 303), "others": (400, 401, 403, 404)},
    "/wave/oauth/callback": {"own admin": (400,), "others": (400, 401, 403)},
    "/wave/metrics": {"own admin": (401,), "others": (401,)},
    "/wave/webhook/<int:connection_id>": {"own admin": (401,), "others": (401,)},
}


@tagged("post_install", "-at_install")
class TestRouteMatrix(TallyMixin, RecordAccessCommon, HttpCase):
    """Every HTTP route x every session (each role of company A and of company B,
    and no session): works on the own company or refused (4xx), nothing changed."""

    def _routes(self):
        """The addon's routes, from the routing map of the running registry."""
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
        return sorted(
            {
                rule.rule
                for rule in rules
                if "wave_accounting_integration" in getattr(rule.endpoint, "__module__", "")
                or rule.rule.startswith("/wave")
            }
        )

    def test_every_route_has_a_row(self):
        routes = self._routes()
        self.assertIn("/wave/webhook/<int:connection_id>", routes)
        self.assertEqual(sorted(set(routes) ^ set(ROUTES)), [], "routes without a row")

    def _request(self, rule):
        connection = self.connection
        if rule == "/wave/oauth/start":
            return self.url_open(
                f"/wave/oauth/start?connection_id={connection.id}", allow_redirects=False
            )
        if rule == "/wave/oauth/callback":
            return self.url_open(
                "/wave/oauth/callback?state=forged-state&code=forged-code", allow_redirects=False
            )
        if rule == "/wave/metrics":
            return self.url_open("/wave/metrics", allow_redirects=False)
        # Company B's secret signs an event for company A's connection.
        body = json.dumps(
            {
                "event_id": "evt-route-matrix",
                "event_type": "invoice.paid",
                "business_id": connection.business_id,
                "data": {"invoice_id": "SW52b2ljZTox"},
            }
        ).encode()
        header, _algorithm, _max = self.env["wave.api"].sudo()._webhook_settings()
        signature = hmac.new(b"webhook-secret-of-B", body, hashlib.sha256).hexdigest()
        return self.url_open(
            f"/wave/webhook/{connection.id}",
            data=body,
            headers={"Content-Type": "application/json", header: signature},
            allow_redirects=False,
        )

    def test_every_route_for_every_session(self):
        sessions = {
            "wave admin of A": self.wave_admin,
            "wave user of A": self.wave_accountant,
            **self.outsiders,
            "no session": None,
        }
        findings = []
        for who, user in sessions.items():
            if user is None:
                self.authenticate(None, None)
            else:
                self.authenticate(user.login, user.login)
            for rule, expected in ROUTES.items():
                allowed = expected["own admin" if who == "wave admin of A" else "others"]
                before = self._snapshot()
                response = self._request(rule)
                status = response.status_code
                location = response.headers.get("Location", "")
                if user is None and status in (302, 303) and "/web/login" in location:
                    status = 401  # auth="user": the login page, nothing else
                leaked = (
                    any(
                        secret in response.text
                        for secret in ("SECRET", "webhook-secret-of-B", "client-id-1")
                    )
                    and status != 302
                )
                changed = self._snapshot() != before
                if who == "wave admin of A" and status in (302, 303):
                    outcome = "accepted"
                    self.assertIn("client_id=client-id-1", location)
                else:
                    outcome = tally.classify(400 <= status < 500, changed or leaked, status)
                tally.record("HTTP route by role and company", outcome)
                if status not in allowed or outcome in ("leak", "server_error"):
                    findings.append((who, rule, response.status_code, outcome))
        self.assertFalse(findings, findings)


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
