# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The request log: redaction, counters, retention, access, overhead."""

import contextlib
import datetime as dt

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..lib import WaveError
from .common import WaveSandboxCommon

PING = "query Ping { user { id } }"


@tagged("post_install", "-at_install")
class TestRequestLog(WaveSandboxCommon):
    sandbox_customers = 1
    sandbox_vendors = 1

    def setUp(self):
        super().setUp()
        self.sandbox.faults.clear()
        self.Log = self.env["wave.request.log"]

    def _logs(self):
        return self.Log.search([("connection_id", "=", self.connection.id)])

    def test_lines_are_written_and_redacted(self):
        client = self.connection._wave_build_client("webhook")
        client.execute(
            "query Business($businessId: ID!) { business(id: $businessId) { id } }",
            {"businessId": self.wave_us.id},
        )
        log = self._logs()[:1]
        self.assertEqual(log.operation_name, "Business")
        self.assertEqual((log.kind, log.outcome, log.priority), ("query", "success", "webhook"))
        self.assertEqual(log.http_status, 200)
        self.assertGreater(log.duration_ms, 0)
        self.assertIn(self.wave_us.id, log.variables)
        self.assertNotIn(self.wave_token, log.variables)
        self.assertEqual(log.company_id, self.connection.company_id)
        vals = self.Log._values_from_record(
            self.connection.id,
            {
                "operation_name": "X",
                "variables": {
                    "token": "variable-token-SECRET",
                    "input": {"client_secret": "nested-SECRET", "name": "Visible"},
                },
            },
        )
        self.assertNotIn("SECRET", vals["variables"])
        self.assertIn("Visible", vals["variables"])

    def test_request_stats(self):
        since = fields.Datetime.now() - dt.timedelta(hours=2)  # create_date = transaction start
        client = self.connection._wave_build_client("bulk", backoff_base=0.01, max_retries=1)
        client.execute(PING)
        client.execute(PING)
        self.sandbox.faults.add(kind="http_error", status=502, operation="*", count=2)
        with contextlib.suppress(WaveError):  # the failure is what gets logged
            client.execute(PING)
        stats = self.Log._request_stats(since, connection=self.connection)
        self.assertEqual(stats["total"], 3)
        self.assertEqual(stats["by_operation"]["Ping"], {"success": 2, "error": 1})
        self.assertEqual(stats["by_outcome"], {"success": 2, "error": 1})
        self.assertEqual(stats["retries"], 1)
        self.assertIn("rate_limit_waits", stats)
        self.assertEqual(self.connection.request_log_count, 3)

    def test_retention_cleanup(self):
        self.connection.request_log_retention_days = 10
        client = self.connection._wave_build_client()
        client.execute(PING)
        client.execute(PING)
        old, recent = self._logs()
        self.env.cr.execute(
            "UPDATE wave_request_log SET create_date = %s WHERE id = %s",
            (fields.Datetime.now() - dt.timedelta(days=11), old.id),
        )
        self.Log._cron_cleanup()
        self.assertEqual(self._logs(), recent)
        cron = self.env.ref("wave_accounting_integration.ir_cron_wave_request_log_cleanup")
        self.assertEqual(cron.interval_type, "days")

    def test_accountants_read_only(self):
        self.connection._wave_build_client().execute(PING)
        as_accountant = self._logs().with_user(self.wave_accountant)
        self.assertTrue(as_accountant.read(["operation_name", "variables"]))
        with self.assertRaises(AccessError):
            as_accountant.write({"outcome": "error"})
        with self.assertRaises(AccessError):
            self._logs().with_user(self.plain_accountant).read(["operation_name"])
        menu = self.env.ref("wave_accounting_integration.menu_wave_request_log")
        # A technical log: in the menu in developer mode.
        Menu = self.env["ir.ui.menu"].with_user(self.wave_accountant)
        self.assertIn(menu.id, Menu._visible_menu_ids(debug=True))
        self.assertNotIn(menu.id, Menu._visible_menu_ids())

    def test_overhead_in_queries(self):
        """Budget + log cost a handful of queries per request, whatever the volume."""
        client = self.connection._wave_build_client()
        client.execute(PING)  # the bucket row exists from now on
        before = self.env.cr.sql_log_count
        for _i in range(5):
            client.execute(PING)
        self.env.flush_all()
        per_request = (self.env.cr.sql_log_count - before) / 5
        # bucket: INSERT .. ON CONFLICT, SELECT .. FOR UPDATE, UPDATE; log: one INSERT.
        self.assertLessEqual(per_request, 6)
