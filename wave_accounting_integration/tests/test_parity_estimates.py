# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Parity report, estimates: Wave's estimates against their quotations, to the cent.

The sandbox's demo estimates (every status, a second currency, discounts, deposits)
are imported by the poll; the report of their date range finds nothing to say.
Then a quotation is tampered with in Odoo (its total, behind the ORM's back, and its
state) and the report names the estimate, the figure and both values.
"""

import datetime as dt

from odoo.tests import tagged

from .common import WaveSandboxCommon

ESTIMATES = 18  # two walks through every status of the sandbox's demo


def seed_and_import_estimates(case, count=ESTIMATES):
    """Demo estimates in the sandbox's US business, imported by the poll; returns the
    date range that holds them."""
    from wave_sandbox import generator

    state = case.sandbox.state
    with state.lock:
        generator.seed_estimates(state, [case.wave_us], count)
        today = state.today()
    case.env.ref("base.EUR").active = True
    case.env["wave.reference.importer"]._sync_accounts(case.connection)
    for entity in ("customers", "estimates"):
        case.connection._job_poll(entity, trigger="manual")
    case.env.invalidate_all()
    return today - dt.timedelta(days=90), today


class EstimateParityCase(WaveSandboxCommon):
    """The sandbox's demo estimates imported (also the independent parity test's data)."""

    sandbox_invoices = 0
    sandbox_customers = 8
    sandbox_vendors = 1

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.date_from, cls.date_to = seed_and_import_estimates(cls)
        cls.orders = cls.env["sale.order"].search(
            [("company_id", "=", cls.connection.company_id.id), ("wave_id", "!=", False)]
        )


@tagged("post_install", "-at_install")
class TestParityEstimates(EstimateParityCase):
    def report(self):
        self.env.flush_all()
        self.env.invalidate_all()
        return self.env["wave.parity.checker"]._compute_report(
            self.connection, self.date_from, self.date_to
        )

    def estimate_lines(self, report):
        return report.line_ids.filtered(lambda line: line.category == "estimate")

    def test_imported_estimates_match(self):
        # Wave lists neither the two deleted estimates nor did the import keep them
        listed = [e for e in self.wave_us.estimates if e.status != "DELETED"]
        self.assertEqual(len(listed), ESTIMATES - 2)
        self.assertEqual(len(self.orders), ESTIMATES - 2)
        report = self.report()
        self.assertFalse(self.estimate_lines(report), report.line_ids.mapped("key"))
        self.assertEqual(report.difference_count, 0)
        # invoices (none) and estimates (one page) each asked once
        self.assertEqual(report.request_count, 2)

    def test_tampered_quotation_is_reported(self):
        order = self.orders.filtered(lambda o: o.wave_status == "SENT")[:1]
        self.assertEqual(order.state, "sent")
        number = order.wave_estimate_number
        wave_total = order.amount_total
        # Raw SQL: the tampering a parity check is for happens behind the ORM's back.
        self.env.cr.execute(
            "UPDATE sale_order SET amount_total = amount_total + 0.01, state = 'draft' "
            "WHERE id = %s",
            [order.id],
        )
        report = self.report()
        lines = self.estimate_lines(report)
        self.assertEqual(
            sorted(lines.mapped("key")), [f"{number}: status", f"{number}: total"], lines
        )
        total = lines.filtered(lambda line: line.key.endswith("total"))
        cents = order.currency_id.compare_amounts
        self.assertFalse(cents(total.wave_amount, wave_total))
        self.assertFalse(cents(total.odoo_amount, wave_total + 0.01))
        self.assertFalse(cents(total.difference, -0.01))
        self.assertEqual((total.res_model, total.res_id), ("sale.order", order.id))
        status = lines - total
        self.assertEqual((status.wave_value, status.odoo_value), ("SENT", "draft"))
        self.assertEqual(report.difference_count, 2)

    def test_quotation_missing_in_odoo_is_reported(self):
        order = self.orders.filtered(lambda o: o.wave_status == "APPROVED")[:1]
        number = order.wave_estimate_number
        order.unlink()
        lines = self.estimate_lines(self.report())
        self.assertEqual(lines.mapped("key"), [f"{number}: missing in Odoo"])
        self.assertEqual(lines.wave_value, "APPROVED")
