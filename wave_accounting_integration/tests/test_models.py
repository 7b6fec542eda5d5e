# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import psycopg2

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import WaveCommon


@tagged("post_install", "-at_install")
class TestWaveIds(WaveCommon):
    def _assert_unique(self, records, field_name="wave_id"):
        records[0][field_name] = "V2F2ZTox"
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                records[1][field_name] = "V2F2ZTox"
                records.flush_recordset()

    def test_wave_id_unique_per_company(self):
        company = self.company_data["company"]
        self._assert_unique(self.env["res.partner"].create([{"name": "A"}, {"name": "B"}]))
        self._assert_unique(
            self.env["res.partner"].create([{"name": "A"}, {"name": "B"}]), "wave_vendor_id"
        )
        self._assert_unique(
            self.env["product.product"].create(
                [
                    {"name": "P1", "wave_company_id": company.id},
                    {"name": "P2", "wave_company_id": company.id},
                ]
            )
        )
        self._assert_unique(
            self.init_invoice("out_invoice", amounts=[10])
            | self.init_invoice("out_invoice", amounts=[20])
        )
        self._assert_unique(self.tax_sale_a | self.tax_sale_b)

    def test_same_wave_id_in_two_companies(self):
        other = self.setup_other_company()["company"]
        products = self.env["product.product"].create(
            [
                {
                    "name": "P1",
                    "wave_company_id": self.company_data["company"].id,
                    "wave_id": "UHJvZDox",
                },
                {"name": "P2", "wave_company_id": other.id, "wave_id": "UHJvZDox"},
            ]
        )
        products.flush_recordset()
        self.assertEqual(len(products), 2)

    def test_wave_id_lookup_uses_index(self):
        """The plan PostgreSQL picks for the binding look-up the sync runs (EXPLAIN).

        Sequential scans are discouraged (not forbidden) so that a table of a
        few rows still shows which index the query can use: without a usable
        index on ``wave_id`` the plan stays a sequential scan.
        """
        # sudo: the bare look-up by Wave id, without the multi-company rule's filter.
        query = (
            self.env["account.move"]
            .sudo()
            ._search([("wave_id", "in", ["SW52b2ljZTox", "SW52b2ljZToy"])])
        )
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.env.cr.execute(SQL("EXPLAIN %s", query.select()))
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertNotIn("Seq Scan on account_move", plan, plan)
        self.assertRegex(plan, r"Index Cond: .*wave_id", plan)

    def test_wave_id_not_copied(self):
        invoice = self.init_invoice("out_invoice", amounts=[10])
        invoice.wave_id = "SW52b2ljZTox"
        self.assertFalse(invoice.copy().wave_id)


@tagged("post_install", "-at_install")
class TestSyncRecords(WaveCommon):
    def test_one_active_connection_per_company(self):
        with self.assertRaises(ValidationError):
            self.env["wave.api"].create({"company_id": self.company_data["company"].id})

    def test_sync_job_progress_and_cancel(self):
        Job = self.env["wave.sync.job"].sudo()  # runs are written by the sync
        parent = Job.create(
            {
                "name": "Historical import",
                "connection_id": self.connection.id,
                "kind": "historical_import",
                "direction": "inbound",
                "trigger": "wizard",
            }
        )
        Job.create(
            [
                {
                    "name": f"Chunk {month}",
                    "connection_id": self.connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "parent_id": parent.id,
                    "records_total": 50,
                    "records_done": done,
                }
                for month, done in ((1, 50), (2, 25))
            ]
        )
        self.assertAlmostEqual(parent.progress, 75.0)
        parent.with_user(self.wave_accountant).action_cancel()
        self.assertEqual(set(parent.child_ids.mapped("state")), {"cancelled"})
        with self.assertRaises(UserError):
            parent.action_cancel()

    def test_sync_job_finish_states(self):
        job = (
            self.env["wave.sync.job"]
            .sudo()
            .create(  # runs are written by the sync
                {
                    "name": "Poll",
                    "connection_id": self.connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                }
            )
        )
        job._mark_running()
        job.records_failed = 1
        job._mark_finished()
        self.assertEqual(job.state, "partial")
        self.assertGreaterEqual(job.duration, 0.0)

    def test_partner_map_confirm_and_reject(self):
        mapping = (
            self.env["wave.partner.map"]
            .with_user(self.wave_accountant)
            .create(
                {
                    "connection_id": self.connection.id,
                    "wave_type": "customer",
                    "wave_id": "Q3VzdG9tZXI6MQ==",
                    "wave_name": "Acme Corp",
                    "match_method": "fuzzy",
                    "match_score": 91.5,
                }
            )
        )
        with self.assertRaises(UserError):
            mapping.action_confirm()
        mapping.partner_id = self.partner_a
        mapping.action_confirm()
        self.assertEqual((mapping.state, mapping.match_method), ("matched", "manual"))
        mapping.action_reject()
        self.assertEqual(mapping.state, "rejected")
        self.assertFalse(mapping.partner_id)

    def test_quarantine_discard_needs_reason_and_is_audited(self):
        record = (
            self.env["wave.quarantine"]
            .sudo()
            .create(  # written by the sync
                {
                    "name": "Invoice 1001",
                    "connection_id": self.connection.id,
                    "direction": "inbound",
                    "record_type": "Invoice",
                    "wave_id": "SW52b2ljZTox",
                    "payload": {"invoiceNumber": "1001", "total": {"value": "10.00"}},
                    "reasons": "Wave account Sales is not mapped",
                }
            )
        )
        self.assertIn('"invoiceNumber": "1001"', record.payload_display)
        record = record.with_user(self.wave_accountant)
        with self.assertRaises(UserError):
            record.action_discard()
        record.discard_reason = "Duplicate created by hand in Wave"
        record.action_discard()
        self.assertEqual(record.state, "discarded")
        log = self.env["wave.audit.log"].search(
            [("res_model", "=", "wave.quarantine"), ("res_id", "=", record.id)]
        )
        self.assertEqual(log.action, "discard")
        self.assertEqual(log.values_after, {"reason": "Duplicate created by hand in Wave"})
