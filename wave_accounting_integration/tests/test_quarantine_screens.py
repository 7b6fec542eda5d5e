# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The quarantine and mapping screens an accountant uses (issue 19).

Each reason offers only its own fix, evaluated from the form the browser gets;
the fixes and replays are checked on the database rows they change; the bulk
replay runs as a queue job.
"""

import datetime as dt
from decimal import Decimal

from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import WaveSandboxCommon

FIX_BUTTONS = {
    "action_activate_currency_and_replay",
    "action_map_accounts",
    "action_choose_contact",
    "action_take_wave",
    "action_keep_odoo",
}


@tagged("post_install", "-at_install")
class TestQuarantineScreens(WaveSandboxCommon):
    sandbox_customers = 4
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        cls.ops = ops
        cls.state = cls.sandbox.state
        cls.customer = next(c for c in cls.wave_us.customers if not c.currency_code)
        cls.product = cls.wave_us.products[0]
        cls.today = cls.state.today()
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)
        cls.connection.currency_policy = "ask"

    # helpers -----------------------------------------------------------------
    def wave_invoice(self, price="100", product=None, customer=None, **extra):
        data = dict(
            customerId=(customer or self.customer).id,
            invoiceDate=self.today,
            dueDate=self.today + dt.timedelta(days=30),
            items=[
                {
                    "productId": (product or self.product).id,
                    "unitPrice": Decimal(price),
                    "quantity": Decimal(1),
                    "taxes": [],
                }
            ],
            status="SAVED",
            **extra,
        )
        with self.state.lock:
            return self.ops.create_invoice(self.state, self.wave_us, data)

    def quarantined(self, invoice):
        self.env["wave.invoice.importer"]._import_by_ids(self.connection, [invoice.id])
        entry = self.env["wave.quarantine"].search(
            [("wave_id", "=", invoice.id), ("state", "=", "open")]
        )
        self.assertEqual(len(entry), 1)
        return entry

    def move_of(self, invoice):
        return self.env["account.move"].search([("wave_id", "=", invoice.id)])

    def visible_buttons(self, entry, user=None):
        """Header buttons of the form as ``user`` gets it, with their ``invisible``
        expressions evaluated on the entry's values (as the web client does)."""
        entry = entry.with_user(user or self.wave_accountant)
        arch = entry.get_views([(False, "form")])["views"]["form"]["arch"]
        header = etree.fromstring(arch).find(".//header")
        buttons = header.findall("button")
        names = set(entry._fields)
        values = entry.read(list(names - {"payload", "conflict_diff", "payload_display"}))[0]
        values["payload"] = entry.payload
        visible = set()
        for button in buttons:
            expression = button.get("invisible")
            if not expression or not safe_eval(expression, values):
                visible.add(button.get("name"))
        return visible

    # reasons and their buttons ------------------------------------------------
    def test_currency_problem_offers_only_the_currency_fix(self):
        sek = self.env.ref("base.SEK")
        sek.active = False
        invoice = self.wave_invoice(currency="SEK")
        entry = self.quarantined(invoice)
        buttons = self.visible_buttons(entry)
        self.assertEqual(buttons & FIX_BUTTONS, {"action_activate_currency_and_replay"})
        self.assertIn("action_discard", buttons)
        # the summary above the payload, from Wave's invoice
        self.assertEqual(entry.summary_customer, self.customer.name)
        self.assertEqual(entry.summary_number, invoice.invoice_number)
        self.assertEqual(entry.summary_date, str(invoice.invoice_date))
        self.assertIn("SEK", entry.summary_total)
        self.assertIn(f"{Decimal(invoice.total.value):,.2f}", entry.summary_total)
        self.assertEqual(entry.summary_line_count, 1)
        # the currency menu is in the administrator's app only
        self.assertIn(
            "Configuration > Accounting > Currencies",
            entry.with_user(self.wave_admin).suggested_fix_display,
        )
        shown = entry.with_user(self.wave_accountant).suggested_fix_display
        self.assertNotIn("[[menu:", shown)
        self.assertNotIn("Currencies", shown)

    def test_unmapped_account_offers_map_accounts(self):
        with self.state.lock:
            account = self.ops.create_account(
                self.state, self.wave_us, {"name": "Screens Projects", "subtype": "INCOME"}
            )
            product = self.ops.create_product(
                self.state,
                self.wave_us,
                {"name": "Screens", "unitPrice": Decimal("50"), "incomeAccountId": account.id},
            )
        invoice = self.wave_invoice(product=product)
        entry = self.quarantined(invoice)
        mapping = self.env["wave.account.map"].search([("wave_account_id", "=", account.id)])
        self.assertFalse(mapping.account_id)
        self.assertEqual(self.visible_buttons(entry) & FIX_BUTTONS, {"action_map_accounts"})
        self.assertIn("action_replay", self.visible_buttons(entry))
        action = entry.with_user(self.wave_accountant).action_map_accounts()
        found = self.env[action["res_model"]].search(action["domain"])
        self.assertEqual(found, mapping)
        # the menu path the accountant sees exists in their app
        menu = self.env.ref("wave_accounting_integration.menu_wave_account_map")
        path = entry.with_user(self.wave_accountant).suggested_fix_display
        self.assertIn(" > Wave > Review > Accounts", path)
        self.assertIn(
            menu.id, self.env["ir.ui.menu"].with_user(self.wave_accountant)._visible_menu_ids()
        )
        # the invoice booked to suspense is linked from the entry
        self.assertEqual(entry.record_name, self.move_of(invoice).display_name)
        self.assertEqual(entry.action_open_record()["res_id"], self.move_of(invoice).id)

    def test_unmatched_customer_is_fixed_by_creating_the_contact(self):
        with self.state.lock:
            customer = self.ops.create_customer(
                self.state, self.wave_us, {"name": "Zephyr Screens Ltd", "email": "z@screens.test"}
            )
        mapping = self.env["wave.partner.map"].create(
            {
                "connection_id": self.connection.id,
                "wave_type": "customer",
                "wave_id": customer.id,
                "wave_name": customer.name,
                "wave_email": "z@screens.test",
                "state": "review",
            }
        )
        invoice = self.wave_invoice(customer=customer)
        entry = self.quarantined(invoice)
        self.assertFalse(self.move_of(invoice))
        self.assertEqual(self.visible_buttons(entry) & FIX_BUTTONS, {"action_choose_contact"})
        action = entry.with_user(self.wave_accountant).action_choose_contact()
        self.assertEqual((action["res_model"], action["res_id"]), ("wave.partner.map", mapping.id))
        result = (
            self.env["wave.partner.map"]
            .with_user(self.wave_accountant)
            .with_context(**action["context"])
            .browse(mapping.id)
            .action_create_contact()
        )
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(entry.state, "resolved")
        partner = mapping.partner_id
        self.assertEqual((partner.name, partner.email), ("Zephyr Screens Ltd", "z@screens.test"))
        self.assertEqual(self.move_of(invoice).partner_id, partner)
        # the resolved entry links to the invoice its replay booked
        self.assertEqual(entry.record_name, self.move_of(invoice).display_name)
        self.assertEqual(entry.action_open_record()["res_id"], self.move_of(invoice).id)

    def test_replay_that_fails_again_says_why(self):
        self.env.ref("base.SEK").active = False
        invoice = self.wave_invoice(currency="SEK")
        entry = self.quarantined(invoice)
        entry.sudo().reasons = "stale reason"
        result = entry.with_user(self.wave_accountant).action_replay()
        self.assertEqual(entry.state, "open")
        self.assertIn("SEK", entry.reasons)
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("failed again", result["params"]["message"])
        self.assertIn(entry.reasons, result["params"]["message"])

    def test_bulk_replay_runs_as_a_queue_job(self):
        for code in ("SEK", "NOK"):
            self.env.ref(f"base.{code}").active = False
        invoices = [
            self.wave_invoice(currency="SEK"),
            self.wave_invoice("75", currency="SEK"),
            self.wave_invoice(currency="NOK"),
        ]
        entries = self.env["wave.quarantine"].browse([self.quarantined(i).id for i in invoices])
        self.env.ref("base.SEK").active = True  # fixed by hand for two of the three
        server_action = self.env.ref(
            "wave_accounting_integration.wave_quarantine_action_bulk_replay"
        )
        server_action.with_user(self.wave_accountant).with_context(
            active_model="wave.quarantine",
            active_ids=entries.ids,
            active_id=entries[0].id,
            queue_job__no_delay=False,
        ).run()
        self.assertEqual(set(entries.mapped("state")), {"open"})  # nothing ran yet
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("method_name", "=", "_job_replay_many"), ("state", "=", "pending")])
        )
        self.assertEqual(len(jobs), 1)
        self.assertEqual(jobs.user_id, self.wave_accountant)
        self.assertEqual(set(jobs.records.ids), set(entries.ids))
        jobs.records.with_user(jobs.user_id)._job_replay_many()
        self.assertEqual(entries.mapped("state"), ["resolved", "resolved", "open"])
        for invoice in invoices[:2]:
            self.assertEqual(self.move_of(invoice).state, "posted")
        self.assertFalse(self.move_of(invoices[2]))
        message = self.env["mail.message"].search(
            [
                ("model", "=", "wave.api"),
                ("res_id", "=", self.connection.id),
                ("partner_ids", "in", self.wave_accountant.partner_id.ids),
            ],
            order="id desc",
            limit=1,
        )
        self.assertIn("2 of 3 records fixed, 1 still in quarantine", message.body)
        self.assertIn(entries[2].name, message.body)

    # mapping screens ---------------------------------------------------------
    def test_accept_all_suggestions(self):
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", self.connection.id)], limit=3
        )
        accounts = self.env["account.account"].search(
            [("company_ids", "in", self.connection.company_id.ids)], limit=2
        )
        maps.sudo().write({"account_id": False, "suggested_account_id": False})
        maps[0].sudo().suggested_account_id = accounts[0]
        maps[1].sudo().suggested_account_id = accounts[1]
        self.env["wave.account.map"].with_user(self.wave_accountant).action_accept_all_suggestions()
        self.assertEqual(maps.mapped("account_id"), accounts)
        self.assertEqual((maps[0].account_id, maps[1].account_id), (accounts[0], accounts[1]))
        self.assertFalse(maps[2].account_id)

        Partner = self.env["res.partner"]
        first, second = Partner.create([{"name": "Suggest One"}, {"name": "Suggest Two"}])
        PartnerMap = self.env["wave.partner.map"]
        suggested = PartnerMap.create(
            [
                {
                    "connection_id": self.connection.id,
                    "wave_type": "vendor",
                    "wave_id": f"VmVuZG9yOnN1Z2dlc3Qt{n}",
                    "wave_name": partner.name,
                    "partner_id": partner.id,
                    "match_method": "fuzzy",
                    "match_score": 90.0,
                    "state": "review",
                }
                for n, partner in enumerate((first, second))
            ]
        )
        lone = PartnerMap.create(
            {
                "connection_id": self.connection.id,
                "wave_type": "vendor",
                "wave_id": "VmVuZG9yOmxvbmU=",
                "wave_name": "Nobody Alike",
                "state": "review",
            }
        )
        PartnerMap.with_user(self.wave_accountant).action_accept_all_suggestions()
        self.assertEqual(suggested.mapped("state"), ["matched", "matched"])
        self.assertEqual(suggested.mapped("partner_id"), first | second)
        self.assertEqual(lone.state, "review")

    def test_tax_and_product_mappings_show_names_first(self):
        for xmlid in (
            "wave_accounting_integration.wave_account_tax_view_list",
            "wave_accounting_integration.wave_product_view_list",
        ):
            arch = etree.fromstring(self.env.ref(xmlid).arch)
            self.assertEqual(arch.find("field[@name='wave_id']").get("optional"), "hide")
            self.assertIsNotNone(arch.find("field[@name='name']"))
