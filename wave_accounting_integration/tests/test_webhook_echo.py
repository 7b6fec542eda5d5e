# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Echoes of our own export cost no Wave request; a real Wave change is still read.

The sandbox's webhook sender delivers to the Odoo route over HTTP every event our
export causes (created, approved, sent). Requests are counted by the sandbox itself.
"""

import time
from decimal import Decimal

from odoo import Command
from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .test_outbound import OutboundCommon

SECRET = "echo-webhook-SECRET"
#: Wave requests per exported invoice, echoes included (issue 17).
MAX_REQUESTS_PER_INVOICE = 0.15
INVOICES = 40


class WebhookEchoCommon(OutboundCommon, HttpCase):
    """The sandbox's webhooks delivered to the Odoo route, and the jobs they queue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import ops

        cls.ops = ops
        cls.state = cls.sandbox.state
        cls.connection.sudo().webhook_secret = SECRET
        cls.bank = ops.system_account(cls.wave_us, "CASH_AND_BANK", "Checking Account")

    def _subscribe(self):
        url = f"http://127.0.0.1:{config['http_port']}/wave/webhook/{self.connection.id}"
        subscription = self.sandbox_admin(
            "POST",
            "/sandbox/webhooks/subscriptions",
            json={"url": url, "secret": SECRET, "business_id": self.wave_us.id},
        )
        self.addCleanup(
            self.sandbox_admin, "DELETE", f"/sandbox/webhooks/subscriptions/{subscription['id']}"
        )

    def _send_back(self, first_event):
        """The sandbox sends the webhooks of the events emitted since ``first_event``.

        They are sent once the export is over: the route shares the test's cursor
        (HttpCase), so a delivery must not run while the test thread writes.
        """
        webhooks = self.sandbox.webhooks
        for event in list(webhooks.events[first_event:]):
            webhooks.dispatch(event)

    def wait_deliveries(self, first_event, wave_ids, timeout=60):
        """Wait until every event emitted for ``wave_ids`` since ``first_event`` was
        delivered (answered 2xx by the Odoo route, per the sandbox's delivery log)."""
        event_ids = {
            e["event_id"]
            for e in self.sandbox.webhooks.events[first_event:]
            if e["data"].get("invoice_id") in wave_ids or e["data"].get("estimate_id") in wave_ids
        }
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.sandbox_admin("GET", "/sandbox/webhooks/deliveries")
            delivered = [
                d
                for d in log["deliveries"]
                if d["status"] == "delivered" and d["event_id"] in event_ids
            ]
            if {d["event_id"] for d in delivered} == event_ids:
                return delivered
            time.sleep(0.1)
        self.fail(f"{len(delivered)} of {len(event_ids)} webhook events delivered")

    def run_jobs(self):
        """Run the drains, then the processing jobs they queued; returns those jobs."""
        self.assertTrue(self.run_webhook_drains())
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("model_name", "=", "wave.webhook.event"), ("state", "=", "pending")])
        )
        for record in jobs:
            job = Job.load(self.env, record.uuid)
            job.perform()
            job.set_done()
            job.store()
        self.env.flush_all()
        return jobs

    def _events(self, wave_ids):
        self.env.invalidate_all()
        return self.env["wave.webhook.event"].search([("wave_invoice_id", "in", list(wave_ids))])


@tagged("post_install", "-at_install")
class TestWebhookEcho(WebhookEchoCommon):
    def test_export_echoes_cost_no_request_and_a_wave_change_is_read(self):
        # The customers, product and tax exist in Wave already (one earlier export).
        self.assertTrue(self._export(self._invoice(self.partner_a) | self._invoice(self.partner_b)))
        # One plain invoice (one product line, no discount, no tax) that Wave will change.
        plain = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": self.today,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": self.product_a.id, "price_unit": 10.0, "tax_ids": []}
                    )
                ],
            }
        )
        plain.action_post()
        moves = plain
        for n in range(INVOICES - 1):
            moves |= self._invoice(self.partner_a if n % 2 else self.partner_b, n=n)

        self.sandbox.counters.reset()
        first_event = len(self.sandbox.webhooks.events)
        self.assertTrue(self._export(moves))
        wave_ids = set(moves.mapped("wave_id"))
        self.assertEqual(len(wave_ids), INVOICES)
        self._subscribe()
        self._send_back(first_event)
        delivered = self.wait_deliveries(first_event, wave_ids)
        self.assertGreaterEqual(len(delivered), 3 * INVOICES)  # created, approved, sent
        export_requests = self.sandbox.counters.total
        # settled by the drain: no processing job either
        self.assertFalse(self.run_jobs())
        requests = self.sandbox.counters.total
        events = self._events(wave_ids)
        self.assertEqual(set(events.mapped("state")), {"echo"})
        self.assertEqual(requests, export_requests, self.sandbox.counters.as_dict())
        self.assertLessEqual(requests / INVOICES, MAX_REQUESTS_PER_INVOICE)

        # A real change in Wave right after the export (a payment): read and imported.
        move = plain
        invoice = next(i for i in self.wave_us.invoices if i.id == move.wave_id)
        first_event = len(self.sandbox.webhooks.events)
        with self.state.lock:
            self.ops.create_payment(
                self.state,
                invoice,
                {
                    "paymentAccountId": self.bank.id,
                    "amount": Decimal("3.00"),
                    "paymentDate": self.state.today(),
                    "paymentMethod": "BANK_TRANSFER",
                    "exchangeRate": invoice.exchange_rate,
                    "memo": None,
                },
            )
        self.assertTrue(self.wait_deliveries(first_event, {move.wave_id}))
        before = self.sandbox.counters.total
        self.assertTrue(self.run_jobs())
        self.assertGreater(self.sandbox.counters.total, before)  # Wave was read
        fresh = self._events({move.wave_id}) - events
        self.assertTrue(fresh)
        self.assertEqual(set(fresh.mapped("state")), {"done"})
        self.env.invalidate_all()
        reviews = self.env["wave.quarantine"].search([("direction", "=", "inbound")])
        self.assertEqual(move.amount_residual, move.amount_total - 3.0, reviews.mapped("reasons"))

    def test_echo_of_our_exported_payments_costs_no_request(self):
        """Wave's events of the payments we exported (partial, then the rest) tell only
        what Odoo has: settled as echoes without reading Wave."""
        move = self._invoice()
        self.assertTrue(self._export(move))
        url = f"http://127.0.0.1:{config['http_port']}/wave/webhook/{self.connection.id}"
        for amount, status in ((20.0, "PARTIAL"), (None, "PAID")):
            payment = self._pay(move, amount or move.amount_residual)
            first_event = len(self.sandbox.webhooks.events)
            self.assertTrue(self._export(payment))
            self.assertEqual(self._wave_invoices(move)[move.wave_id]["status"], status)
            before = set(self._events({move.wave_id}).ids)
            # subscribed only once the export is over (the route shares the test's cursor)
            subscription = self.sandbox_admin(
                "POST",
                "/sandbox/webhooks/subscriptions",
                json={"url": url, "secret": SECRET, "business_id": self.wave_us.id},
            )
            self._send_back(first_event)
            self.assertTrue(self.wait_deliveries(first_event, {move.wave_id}))
            self.sandbox_admin("DELETE", f"/sandbox/webhooks/subscriptions/{subscription['id']}")
            requests = self.sandbox.counters.total
            self.assertFalse(self.run_jobs())  # settled by the drain: no processing job
            fresh = self._events({move.wave_id}).filtered(lambda e, b=before: e.id not in b)
            self.assertIn(status, fresh.mapped("wave_status"), fresh.mapped("event_type"))
            self.assertEqual(set(fresh.mapped("state")), {"echo"}, status)
            self.assertEqual(self.sandbox.counters.total, requests, self.sandbox.counters.as_dict())
