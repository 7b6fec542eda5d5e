# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""End to end: the sandbox's webhook sender delivers to the Odoo route, the job imports."""

import datetime as dt
import time
from decimal import Decimal

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT
from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .common import WaveSandboxCommon

SECRET = "e2e-webhook-SECRET"


@tagged("post_install", "-at_install")
class TestWebhookEndToEnd(WaveSandboxCommon, HttpCase):
    sandbox_invoices = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        cls.ops = ops
        cls.state = cls.sandbox.state
        cls.connection.sudo().webhook_secret = SECRET
        cls.env["wave.reference.importer"]._sync_accounts(cls.connection)
        b = cls.wave_us
        cls.bank = ops.system_account(b, "CASH_AND_BANK", "Checking Account")
        cls.customer = next(c for c in b.customers if not c.currency_code)
        cls.product = b.products[0]

    def setUp(self):
        super().setUp()
        url = f"http://127.0.0.1:{config['http_port']}/wave/webhook/{self.connection.id}"
        subscription = self.sandbox_admin(
            "POST",
            "/sandbox/webhooks/subscriptions",
            json={"url": url, "secret": SECRET, "business_id": self.wave_us.id},
        )
        self.addCleanup(
            self.sandbox_admin, "DELETE", f"/sandbox/webhooks/subscriptions/{subscription['id']}"
        )

    def wait_deliveries(self, count, timeout=30):
        """Poll the sandbox (not the database: the route shares the test cursor)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.sandbox_admin("GET", "/sandbox/webhooks/deliveries")
            done = [d for d in log["deliveries"] if d["status"] == "delivered"]
            if len(done) >= count and not log["pending"]:
                return done
            time.sleep(0.1)
        self.fail(f"only {len(done)} of {count} webhook deliveries arrived: {log}")

    def run_jobs(self):
        self.run_webhook_drains()
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("model_name", "=", "wave.webhook.event"), ("state", "=", "pending")])
        )
        # As the job runner runs them: with chatter notes and tracking (the test
        # class switches them off in its own environment).
        context = {
            key: value
            for key, value in self.env.context.items()
            if key not in DISABLED_MAIL_CONTEXT
        }
        for record in jobs:
            job = Job.load(self.env(context=context), record.uuid)
            job.perform()
            job.set_done()
            job.store()
        # the route runs in another thread on the same transaction: let it see the result
        self.env.flush_all()
        return jobs

    def test_sandbox_delivery_becomes_paid_invoice_once(self):
        today = self.state.today()
        self.sandbox_admin("POST", "/sandbox/webhooks/duplicate", json={"next": 1})
        with self.state.lock:
            invoice = self.ops.create_invoice(
                self.state,
                self.wave_us,
                {
                    "customerId": self.customer.id,
                    "invoiceDate": today,
                    "dueDate": today + dt.timedelta(days=30),
                    "items": [{"productId": self.product.id, "quantity": Decimal(2)}],
                    "status": "SAVED",
                },
            )
        total = Decimal(invoice.total.value)
        # the two payment events arrive in reverse order
        self.sandbox_admin("POST", "/sandbox/webhooks/out-of-order", json={"next": 2})
        with self.state.lock:
            for amount in (Decimal("1.00"), total - Decimal("1.00")):
                self.ops.create_payment(
                    self.state,
                    invoice,
                    {
                        "paymentAccountId": self.bank.id,
                        "amount": amount,
                        "paymentDate": today,
                        "paymentMethod": "BANK_TRANSFER",
                        "exchangeRate": invoice.exchange_rate,
                        "memo": None,
                    },
                )
        delivered = self.wait_deliveries(5)
        types = [d["event_type"] for d in delivered]
        self.assertEqual(types[:2], ["invoice.created", "invoice.created"])
        self.assertLess(types.index("invoice.paid"), types.index("invoice.partially_paid"))

        self.env.invalidate_all()
        events = self.env["wave.webhook.event"].search([("wave_invoice_id", "=", invoice.id)])
        self.assertEqual(len(events), 4)
        self.assertEqual(sum(events.mapped("delivery_count")), 5)
        jobs = self.run_jobs()
        self.assertEqual(len(jobs), 1, "one pending job per invoice")
        self.assertEqual(set(events.mapped("state")), {"done"})

        move = self.env["account.move"].search([("wave_id", "=", invoice.id)])
        self.assertEqual(len(move), 1)
        self.assertEqual(move.move_type, "out_invoice")
        self.assertAlmostEqual(move.amount_total, float(total), places=2)
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        # The job runs as the integration (OdooBot, whose partner signs the notes it
        # writes on invoices), not as the public user who called the webhook route.
        self.assertEqual(jobs.user_id, self.env.ref("base.user_root"))
        # What the accountant reads: the invoice's chatter notes written by the webhook's
        # job are signed by the integration (OdooBot), none by "Public user".
        notes = move.message_ids
        self.assertTrue(notes, "the import writes its notes on the invoice")
        self.assertEqual(notes.author_id, self.env.ref("base.partner_root"), notes.mapped("body"))
        self.assertNotIn(self.env.ref("base.public_partner"), notes.author_id)
        wave_payments = {p.id for p in invoice.payment_list}
        payments = self.env["account.payment"].search([("wave_id", "in", list(wave_payments))])
        self.assertEqual(len(payments), 2)

        # a late, older event: the job re-reads Wave, nothing changes or doubles
        self.sandbox_admin(
            "POST",
            "/sandbox/webhooks/test",
            json={"event_type": "invoice.approved", "invoice_id": invoice.id},
        )
        self.wait_deliveries(6)
        self.env.invalidate_all()
        self.assertEqual(len(self.run_jobs()), 1)
        self.assertEqual(self.env["account.move"].search_count([("wave_id", "=", invoice.id)]), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("wave_id", "in", list(wave_payments))]), 2
        )
        self.assertIn(move.payment_state, ("paid", "in_payment"))
