"""The independent checker on estimates: Wave's estimates (plain GraphQL) against
Odoo's quotations (SQL) after the addon imported the sandbox's demo estimates; then
a quotation is tampered with in Odoo and each difference is reported with its kind.

Runs under ``make test`` (it needs pytest-odoo's environment). The addon only
imports (``EstimateParityCase``); it checks nothing here.
"""

from decimal import Decimal

from independent_parity import OdooReader, WaveReader, assert_parity, check_estimate_parity
from independent_parity.report import MISSING_IN_ODOO, STATUS, TAX, TOTAL, UNTAXED
from odoo.addons.wave_accounting_integration.tests.test_parity_estimates import (
    ESTIMATES,
    EstimateParityCase,
)
from odoo.tests import tagged


@tagged("post_install", "-at_install")
class TestIndependentParityEstimates(EstimateParityCase):
    def check(self):
        wave = WaveReader.of_sandbox(self.sandbox, self.wave_token, self.wave_us.id)
        odoo = OdooReader(env=self.env, company_id=self.connection.company_id.id)
        return check_estimate_parity(wave, odoo)

    def only(self, report, *expected):
        self.assertEqual(
            sorted((d.kind, d.key) for d in report.differences), sorted(expected), str(report)
        )

    def order(self, status):
        """An imported quotation whose Wave estimate has ``status``; read in SQL."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, wave_estimate_number FROM sale_order WHERE wave_status = %s "
            "ORDER BY id LIMIT 1",
            [status],
        )
        return self.env.cr.fetchone()

    def test_imported_estimates_match(self):
        report = self.check()
        assert_parity(report)
        self.assertEqual(report.counts["Wave estimates"], ESTIMATES - 2)  # 2 deleted
        self.assertEqual(report.counts["estimates matched"], ESTIMATES - 2)

    def test_tampered_amounts_are_reported(self):
        order_id, number = self.order("VIEWED")
        assert_parity(self.check())  # clean before
        # Raw SQL: tampering behind the ORM's back, a cent on the header total, a
        # cent on a line's untaxed amount and its tax.
        self.env.cr.execute(
            "UPDATE sale_order SET amount_total = amount_total + 0.01 WHERE id = %s", [order_id]
        )
        self.env.cr.execute(
            "UPDATE sale_order_line SET price_subtotal = price_subtotal - 0.01, "
            "price_tax = price_tax + 0.02 WHERE id = (SELECT min(id) FROM sale_order_line "
            "WHERE order_id = %s)",
            [order_id],
        )
        self.env.invalidate_all()
        report = self.check()
        self.only(report, (TOTAL, number), (TAX, number), (UNTAXED, number))
        for kind, odoo_minus_wave in ((TOTAL, "0.01"), (UNTAXED, "-0.01"), (TAX, "0.02")):
            difference = report.of_kind(kind)[0]
            self.assertEqual(difference.odoo - difference.wave, Decimal(odoo_minus_wave), kind)

    def test_status_and_missing_are_reported(self):
        sent_id, sent = self.order("SENT")
        approved_id, approved = self.order("APPROVED")
        self.env.cr.execute("UPDATE sale_order SET state = 'sale' WHERE id = %s", [sent_id])
        self.env["sale.order"].browse(approved_id).unlink()
        self.env.invalidate_all()
        report = self.check()
        self.only(report, (STATUS, sent), (MISSING_IN_ODOO, approved))
        status = report.of_kind(STATUS)[0]
        self.assertEqual((status.wave, status.odoo), ("SENT", "sale"))
