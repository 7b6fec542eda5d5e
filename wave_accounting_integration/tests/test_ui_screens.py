# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Screens without a browser: actions, views and list actions of the Wave menus."""

import base64

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import WaveCommon


@tagged("post_install", "-at_install")
class TestUiScreens(WaveCommon):
    def test_dashboard_action_opens_the_company_connection(self):
        Dashboard = self.env["wave.dashboard"].with_user(self.wave_accountant)
        action = Dashboard.action_open()
        self.assertEqual(action["res_model"], "wave.dashboard")
        dashboard = Dashboard.browse(action["res_id"])
        self.assertEqual(dashboard.connection_id, self.connection)
        self.assertEqual(dashboard.quarantine_count, 0)
        self.assertIn("No successful sync yet", dashboard.last_sync_html)
        # Every navigation button opens a window action the accountant may use.
        for method in (
            "action_open_quarantine",
            "action_open_sync_graph",
            "action_open_running",
            "action_open_account_map",
            "action_open_partner_map",
        ):
            with self.subTest(method=method):
                result = getattr(dashboard, method)()
                self.assertEqual(result["type"], "ir.actions.act_window")
                self.env[result["res_model"]].with_user(self.wave_accountant).search([])
        self.assertEqual(dashboard.action_open_sync_graph()["views"][0][1], "graph")
        # Refresh reloads the same screen: no new breadcrumb each time.
        self.assertIs(dashboard.action_refresh(), True)

    @staticmethod
    def _buttons(arch):
        """New/Delete/Duplicate/Edit as the web client reads them from a view
        (web/static/src/views/utils.js getActiveActions; get_views has already
        turned missing access rights into these attributes)."""
        root = etree.fromstring(arch)

        def allowed(name):
            return root.get(name, "1").lower() not in ("0", "false")

        buttons = {name: allowed(name) for name in ("create", "delete", "edit")}
        buttons["duplicate"] = buttons["create"] and allowed("duplicate")
        return buttons

    def test_sync_records_offer_no_new_delete_duplicate(self):
        """Issue 19 saw New, Delete and Duplicate on the quarantine, the sync runs, the
        outbound ledger and the import parts, and every field of a sync run editable:
        records the sync writes are never made, removed or copied by hand."""
        for user in (self.wave_admin, self.wave_accountant):
            for model in ("wave.quarantine", "wave.sync.job", "wave.outbound.ledger"):
                views = (
                    self.env[model].with_user(user).get_views([(False, "list"), (False, "form")])
                )
                for view_type in ("list", "form"):
                    with self.subTest(user=user.login, model=model, view=view_type):
                        buttons = self._buttons(views["views"][view_type]["arch"])
                        self.assertFalse(buttons["create"])
                        self.assertFalse(buttons["delete"])
                        self.assertFalse(buttons["duplicate"])
            # A sync run (and each import part, opened in the same form from its run)
            # is read, not edited.
            form = self.env["wave.sync.job"].with_user(user).get_views([(False, "form")])
            arch = form["views"]["form"]["arch"]
            self.assertFalse(self._buttons(arch)["edit"])
            parts = etree.fromstring(arch).find(".//field[@name='child_ids']")
            self.assertEqual(parts.get("readonly"), "1")

    def test_empty_screens_explain_themselves(self):
        """Issue 19 saw empty screens saying only "Create new document" (Odoo's words
        for a list whose action has no help): every Wave list explains what it shows."""
        data = self.env["ir.model.data"].search(
            [
                ("module", "=", "wave_accounting_integration"),
                ("model", "=", "ir.actions.act_window"),
            ]
        )
        actions = self.env["ir.actions.act_window"].browse(data.mapped("res_id"))
        lists = actions.filtered(lambda action: action.view_mode.split(",")[0] != "form")
        self.assertGreater(len(lists), 10)
        for action in lists:
            with self.subTest(action=action.xml_id):
                self.assertTrue(action.help, "no help for the empty screen")
                shown = self.env[action.res_model].get_empty_list_help(action.help)
                self.assertNotIn("Create new", shown)

    def test_suspense_account_code_is_plain(self):
        """Issue 19 saw the suspense account coded "WSUSP.copy"."""
        importer = self.env["wave.reference.importer"]
        self.connection.sudo().suspense_account_id = False
        account = importer._suspense_account(self.connection)
        self.assertEqual(account.code, "WSUSP1")
        # Its code taken (a second connection of the company, or by hand): the next number.
        account.name = "Suspense of an older connection"
        self.connection.sudo().suspense_account_id = False
        self.assertEqual(importer._suspense_account(self.connection).code, "WSUSP2")

    def test_dashboard_without_connection_points_to_configuration(self):
        self.connection.sudo().active = False
        action = self.env["wave.dashboard"].action_open()
        self.assertEqual(action["res_model"], "wave.api")

    def test_views_render_for_accountant(self):
        for model, view_type in (
            ("wave.dashboard", "form"),
            ("wave.golive.checklist", "form"),
            ("wave.quarantine", "form"),
            ("wave.sync.job", "graph"),
            ("wave.sync.job", "pivot"),
        ):
            with self.subTest(model=model, view=view_type):
                views = (
                    self.env[model].with_user(self.wave_accountant).get_views([(False, view_type)])
                )
                self.assertTrue(views["views"][view_type]["arch"])
        quarantine_form = self.env["wave.quarantine"].get_views([(False, "form")])["views"]
        self.assertIn("javascript", quarantine_form["form"]["arch"])
        self.assertNotIn("'json'", quarantine_form["form"]["arch"])

    def test_tax_and_product_mapping_lists(self):
        tax = self.company_data["default_tax_sale"]
        tax.wave_id = "U2FsZXNUYXg6MQ=="
        for xmlid, record in (
            ("wave_accounting_integration.wave_account_tax_action", tax),
            ("wave_accounting_integration.wave_product_action", self.product_a),
        ):
            action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
            view = self.env["ir.ui.view"].browse(action["view_id"][0])
            self.assertIn('name="wave_id"', view.arch)
            found = self.env[action["res_model"]].search(safe_eval(action["domain"]))
            if record.wave_id:
                self.assertIn(record, found)
            else:
                self.assertNotIn(record, found)

    def test_bulk_replay_server_action(self):
        wave_id = "Q3VzdG9tZXI6OTk="
        self.env["wave.partner.map"].create(
            {
                "connection_id": self.connection.id,
                "wave_type": "customer",
                "wave_id": wave_id,
                "wave_name": self.partner_a.name,
                "partner_id": self.partner_a.id,
                "state": "matched",
                "match_method": "manual",
            }
        )
        entry = (
            self.env["wave.quarantine"]
            .sudo()
            .create(  # written by the sync
                {
                    "name": "Customer waiting",
                    "connection_id": self.connection.id,
                    "direction": "inbound",
                    "record_type": "Customer",
                    "wave_id": wave_id,
                    "payload": {"id": wave_id, "name": self.partner_a.name},
                    "reasons": "The contact was waiting for review.",
                }
            )
        )
        server_action = self.env.ref(
            "wave_accounting_integration.wave_quarantine_action_bulk_replay"
        )
        self.assertEqual(server_action.binding_model_id.model, "wave.quarantine")
        server_action.with_user(self.wave_accountant).with_context(
            active_model="wave.quarantine",
            active_ids=entry.ids,
            active_id=entry.id,
            queue_job__no_delay=False,
        ).run()
        self.assertEqual(entry.state, "open")  # replayed in the background
        job = self.env["queue.job"].sudo().search([("method_name", "=", "_job_replay_many")])
        self.assertEqual(job.records, entry)
        job.records.with_user(job.user_id)._job_replay_many()
        self.assertEqual(entry.state, "resolved")

    def test_golive_wizard_from_dashboard(self):
        dashboard = self.env["wave.dashboard"].create({"connection_id": self.connection.id})
        action = dashboard.action_open_golive()
        checklist = self.env["wave.golive.checklist"].browse(action["res_id"])
        self.assertEqual(action["target"], "new")
        lines = {line.code: line for line in checklist.line_ids}
        # Not connected: the dry run and the connection fail, with a button to fix.
        self.assertEqual(lines["oauth"].state, "fail")
        self.assertEqual(lines["dry_run"].state, "fail")
        self.assertEqual(lines["oauth"].action_fix()["res_model"], "wave.api")
        self.assertEqual(checklist.overall_state, "fail")

    def test_connection_form_shows_the_webhook_address(self):
        connection = self.connection.with_user(self.wave_admin)
        self.assertEqual(
            connection.webhook_url,
            f"{connection.get_base_url()}/wave/webhook/{connection.id}",
        )
        arch = connection.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertRegex(arch, r'<field name="webhook_url"[^>]*widget="CopyClipboardChar"')
        self.assertIn("send a test delivery", arch)
        self.assertIn("Rotate secrets", arch)

    def test_synced_invoice_shows_wave_number_and_link(self):
        invoice = self.init_invoice("out_invoice", products=self.product_a, post=True)
        wave_id = base64.b64encode(b"Business:b-uuid;Invoice:1234").decode()
        invoice.sudo().write(  # as the inbound sync writes them
            {
                "wave_id": wave_id,
                "wave_origin": "wave",
                "wave_status": "SAVED",
                "payment_reference": "INV-0042",
            }
        )
        move = invoice.with_user(self.wave_accountant)
        self.assertEqual(move.wave_number, "INV-0042")
        self.assertEqual(move.wave_status_label, "Approved")
        self.assertEqual(move.wave_url, "https://next.waveapps.com/b-uuid/invoices/1234/view")
        self.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.invoice_url_template",
            "https://wave.example/{business}/i/{invoice}",
        )
        move.invalidate_recordset()
        self.assertEqual(move.wave_url, "https://wave.example/b-uuid/i/1234")
        # The sandbox's ids (Invoice:<key>) take the business from the connection.
        self.connection.sudo().business_id = base64.b64encode(b"Business:conn").decode()
        invoice.sudo().wave_id = base64.b64encode(b"Invoice:77").decode()
        move.invalidate_recordset()
        self.assertEqual(move.wave_url, "https://wave.example/conn/i/77")
        # Invoice lists: an optional column and a filter.
        Move = self.env["account.move"].with_user(self.wave_accountant)
        views = Move.get_views([(False, "list"), (False, "search")])["views"]
        self.assertIn('name="wave_number"', views["list"]["arch"])
        self.assertIn('name="wave_synced"', views["search"]["arch"])
        self.assertIn(invoice, Move.search([("wave_id", "!=", False)]))
        form = Move.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="wave_url"', form)
