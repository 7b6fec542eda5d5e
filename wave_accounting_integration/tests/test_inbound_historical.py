# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Historical import: chunked by month, interrupted mid-way, resumed without duplicates."""

import time

from odoo.tests import tagged

from .common import WaveSandboxCommon


@tagged("post_install", "-at_install")
class TestInboundHistorical(WaveSandboxCommon):
    # 2000 for the acceptance run; small while developing
    sandbox_invoices = 60
    sandbox_customers = 14
    sandbox_vendors = 3

    def test_interrupted_and_resumed_without_duplicates(self):
        self.env.ref("base.EUR").active = True
        self.env.ref("base.CAD").active = True
        self.connection.import_draft_invoices = True
        wave_invoices = self.wave_us.invoices
        dates = [inv.invoice_date for inv in wave_invoices]
        wizard = self.env["wave.historical.import"].create(
            {"connection_id": self.connection.id, "date_from": min(dates),
             "date_to": max(dates)}
        )
        started = time.monotonic()
        action = wizard.with_context(queue_job__no_delay=False).action_import()
        parent = self.env["wave.sync.job"].browse(action["res_id"])
        chunks = parent.child_ids.sorted("date_from")
        self.assertEqual(len(chunks), wizard.chunk_count)
        self.assertGreater(len(chunks), 12)
        # run half the chunks, the biggest one interrupted after its first page
        biggest = max(chunks, key=lambda c: sum(
            c.date_from <= d <= c.date_to for d in dates))
        half = chunks[: len(chunks) // 2]
        for chunk in half:
            chunk._job_import_chunk(max_pages=1)
        biggest._job_import_chunk(max_pages=1)
        self.assertGreater(parent.progress, 0)
        # crash: the chunk's final commit was lost -> it runs again from page 1
        biggest.write({"state": "running", "resume_page": 1})
        # a cancelled chunk stops before its next page
        victim = (chunks - half - biggest)[:1]
        victim.action_cancel()
        self.assertFalse(victim._job_import_chunk())
        victim.write({"state": "pending"})
        # resume everything
        for chunk in chunks:
            while chunk._job_import_chunk(max_pages=5) is False and chunk.state == "running":
                pass
        elapsed = time.monotonic() - started
        self.assertTrue(all(c.state in ("done", "partial") for c in chunks),
                        chunks.mapped("state"))
        self.assertIn(parent.state, ("done", "partial"))
        self.assertEqual(parent.progress, 100.0)
        Move = self.env["account.move"]
        moves = Move.search([("wave_id", "in", [i.id for i in wave_invoices])])
        self.assertEqual(len(moves), len(moves.mapped("wave_id")))  # no duplicates
        quarantined = self.env["wave.quarantine"].search_count(
            [("connection_id", "=", self.connection.id), ("state", "=", "open"),
             ("record_type", "=", "Invoice"), ("reasons", "not ilike", "suspense")])
        self.assertEqual(len(moves) + quarantined, len(wave_invoices))
        for inv in wave_invoices[:50]:
            move = moves.filtered(lambda m, i=inv: m.wave_id == i.id)
            if move:
                self.assertAlmostEqual(move.amount_total, float(inv.total.value), places=2)
                if inv.status in ("PAID", "OVERPAID"):
                    self.assertIn(move.payment_state, ("paid", "in_payment"))
        requests = sum(chunks.mapped("requests_count"))
        print(f"historical import: {len(wave_invoices)} invoices, {len(moves)} moves, "
              f"{quarantined} quarantined, {requests} requests, {elapsed:.1f} s")
