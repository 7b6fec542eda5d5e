"""The checker against a real Odoo (pytest-odoo's database, read through SQL) and the
Wave sandbox: Wave invoices imported by the addon's historical import match; then
Odoo and Wave are broken on purpose and each difference is reported with its kind.

Runs under ``make test`` (it needs pytest-odoo's environment).
"""

from datetime import date
from decimal import Decimal

from independent_parity import OdooReader, WaveReader, assert_parity, check_parity
from independent_parity.report import (
    AMOUNT_DUE,
    DATE,
    DUPLICATE_IN_ODOO,
    MISSING_IN_ODOO,
    STATUS,
    UNTAXED,
)
from independent_parity.wave_edits import WaveEditor
from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.tests import tagged
from odoo.tools import config

INVOICES = 30


def import_wave_invoices(env, connection, date_from, date_to):
    """Import Wave's invoices of the range through the addon's historical import, as
    the job runner would run it (one job per chunk, called in this transaction).

    The one place that knows the addon's entry points: change it here if they move.
    """
    wizard = env["wave.historical.import"].create(
        {"connection_id": connection.id, "date_from": date_from, "date_to": date_to}
    )
    action = wizard.with_context(queue_job__no_delay=False).action_import()
    parent = env["wave.sync.job"].browse(action["res_id"])
    for chunk in parent.child_ids:
        for _slice in range(100):
            if chunk._job_import_chunk() or chunk.state != "running":
                break
    return parent


@tagged("post_install", "-at_install")
class TestIndependentParityOdoo(AccountTestInvoicingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from wave_sandbox import WaveSandbox

        cls.sandbox = WaveSandbox(seed=11, port=0, rate_limit=0)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.business, _ca = cls.sandbox.seed_demo(
            invoices_per_business=INVOICES, customers=8, vendors=2, years=1
        )
        cls.token = cls.sandbox.issue_full_access_token()
        company = cls.company_data["company"]
        # The sync runs as a Wave administrator would run it.
        cls.env.user.groups_id |= cls.env.ref("wave_accounting_integration.group_wave_admin")
        cls.env.ref("base.EUR").active = True
        cls.env.ref("base.CAD").active = True
        # The addon's default settings, connected to the sandbox with a token.
        cls.connection = (
            cls.env["wave.api"]
            .sudo()
            .create(
                {
                    "name": "Independent parity",
                    "company_id": company.id,
                    "auth_method": "token",
                    "full_access_token": cls.token,
                    "api_url": cls.sandbox.graphql_url,
                    "authorize_url": cls.sandbox.authorize_url,
                    "token_url": cls.sandbox.token_url,
                    "allow_insecure_loopback": True,
                    "business_id": cls.business.id,
                    "business_name": cls.business.name,
                    "business_currency": cls.business.currency_code,
                    "state": "connected",
                    "rate_limit": 10000,
                }
            )
        )
        dates = [inv.invoice_date for inv in cls.business.invoices]
        cls.date_from, cls.date_to = min(dates), max(dates)
        cls.import_job = import_wave_invoices(cls.env, cls.connection, cls.date_from, cls.date_to)

    def setUp(self):
        super().setUp()
        self.wave = WaveReader.of_sandbox(self.sandbox, self.token, self.business.id)

    def check(self):
        odoo = OdooReader(env=self.env, company_id=self.connection.company_id.id)
        return check_parity(self.wave, odoo)

    def only(self, report, *expected):
        """The report holds exactly ``(kind, record, key)`` differences ``expected``."""
        self.assertEqual(
            sorted((d.kind, d.record, d.key) for d in report.differences),
            sorted(expected),
            str(report),
        )

    def imported(self, domain=()):
        return self.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("company_id", "=", self.connection.company_id.id),
                ("state", "=", "posted"),
                *domain,
            ],
            order="id",
        )

    def test_0_imported_books_match(self):
        report = self.check()
        assert_parity(report)
        posted = [inv for inv in self.business.invoices if inv.approved and not inv.deleted]
        self.assertGreaterEqual(len(posted), INVOICES // 2)
        self.assertEqual(report.counts["invoices matched"], len(posted), report)
        self.assertGreater(report.counts["Wave payments compared"], 0, report)
        self.assertEqual(
            report.counts["Wave payments compared"], report.counts["Odoo payments compared"]
        )

    def test_1_line_amount_changed_by_sql(self):
        move = self.imported()[0]
        line = move.invoice_line_ids.filtered(lambda x: x.display_type == "product")[0]
        self.env.flush_all()
        # Behind the ORM's back, as a faulty module or a hand-made fix would.
        self.env.cr.execute(
            "UPDATE account_move_line SET price_subtotal = price_subtotal + 1, "
            "price_total = price_total + 1 WHERE id = %s",
            [line.id],
        )
        self.env.invalidate_all()
        self.only(self.check(), (UNTAXED, "invoice", move.payment_reference))

    def test_2_payment_deleted(self):
        payment = self.env["account.payment"].search(
            [
                ("company_id", "=", self.connection.company_id.id),
                ("state", "in", ("paid", "in_process")),
            ],
            order="id",
            limit=1,
        )
        move = payment.invoice_ids or payment.reconciled_invoice_ids
        self.assertEqual(len(move), 1)
        number = move.payment_reference
        label = f"{number} {payment.date} {Decimal(str(payment.amount)).quantize(Decimal('0.01'))}"
        payment.action_draft()
        payment.unlink()
        report = self.check()
        self.assertEqual(report.of_kind(MISSING_IN_ODOO, "payment")[0].key, label, report)
        self.only(
            report,
            (MISSING_IN_ODOO, "payment", label),
            (AMOUNT_DUE, "invoice", number),
            (STATUS, "invoice", number),
        )

    def test_3_invoice_duplicated(self):
        move = self.imported()[0]
        copy = move.copy(
            {"invoice_date": move.invoice_date, "payment_reference": move.payment_reference}
        )
        copy.action_post()
        self.assertEqual(copy.payment_reference, move.payment_reference)
        report = self.check()
        self.only(report, (DUPLICATE_IN_ODOO, "invoice", move.payment_reference))
        self.assertEqual(report.of_kind(DUPLICATE_IN_ODOO)[0].odoo, sorted([move.id, copy.id]))

    def test_4_reader_over_a_dsn(self):
        """The path the fault matrix takes: another connection, committed data only
        (this test's imports are not committed, so that side sees none of them)."""
        dsn = " ".join(
            f"{key}={config[option]}"
            for key, option in (
                ("host", "db_host"),
                ("port", "db_port"),
                ("user", "db_user"),
                ("password", "db_password"),
            )
            if config.get(option)
        )
        company = self.connection.company_id.id
        with OdooReader(dsn=f"dbname={self.env.cr.dbname} {dsn}", company_id=company) as odoo:
            self.assertEqual(odoo.invoices(), [])
            self.assertEqual(odoo.company_id, company)
            empty = self.sandbox.create_business(
                name="Empty", currency="USD", country="US", province=None, classic=False,
                email_send_enabled=True,
            )  # fmt: skip
            report = check_parity(WaveReader(self.sandbox.graphql_url, self.token, empty.id), odoo)
        assert_parity(report)
        self.assertIn("money transactions not checked", report.summary())
        # The same reader over this test's cursor sees the imported invoices.
        self.assertTrue(OdooReader(env=self.env, company_id=company).invoices())

    def test_9_wave_changed_through_graphql(self):
        editor = WaveEditor(self.sandbox.graphql_url, self.token, self.business.id)
        unpaid = self.imported([("payment_state", "=", "not_paid"), ("amount_residual", ">", 2)])
        paid_in_wave, moved = unpaid[0], unpaid[1]
        editor.pay(paid_in_wave.wave_id, "1.00", date.today())
        old_date = moved.invoice_date
        editor.patch_invoice(
            moved.wave_id,
            invoiceDate=old_date.replace(day=1 if old_date.day > 1 else 2).isoformat(),
        )
        node = editor.invoice(paid_in_wave.wave_id)
        product = editor.invoice(moved.wave_id)["items"][0]["product"]["id"]
        editor.create_invoice(node["customer"]["id"], product, "IP-ODOO-NEW")
        report = check_parity(
            self.wave, OdooReader(env=self.env, company_id=self.connection.company_id.id)
        )
        number = paid_in_wave.payment_reference
        self.only(
            report,
            (MISSING_IN_ODOO, "payment", f"{number} {date.today()} 1.00"),
            (AMOUNT_DUE, "invoice", number),
            (STATUS, "invoice", number),
            (DATE, "invoice", moved.payment_reference),
            (MISSING_IN_ODOO, "invoice", "IP-ODOO-NEW"),
        )
