# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from odoo import Command, fields
from odoo.tests import HttpCase, tagged

from .common import WaveCommon

TOKEN = "metrics-token-for-tests"
# The exposition the hand-written writer produced for this fixture, kept to check
# that prometheus_client's exposition holds the same series.
BEFORE = Path(__file__).parent / "data" / "metrics_before_prometheus_client.txt"


def parse(text):
    """``{(sample name, sorted label pairs): value}`` through prometheus_client's parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(WaveCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().state = "connected"
        Job = cls.env["wave.sync.job"].sudo()  # runs are written by the sync
        now = fields.Datetime.now()
        Job.create(
            [
                {
                    "name": "invoices ok",
                    "connection_id": cls.connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "state": "done",
                    "records_done": 7,
                    "date_started": now - timedelta(seconds=30),
                    "date_finished": now,
                },
                {
                    "name": "invoices failed",
                    "connection_id": cls.connection.id,
                    "kind": "invoices",
                    "direction": "inbound",
                    "state": "failed",
                    "records_failed": 2,
                    "date_started": now - timedelta(seconds=400),
                    "date_finished": now,
                },
            ]
        )
        cls.env["wave.quarantine"].sudo().create(  # entries are written by the sync
            {
                "name": "INV-9",
                "connection_id": cls.connection.id,
                "direction": "inbound",
                "record_type": "Invoice",
                "reasons": "unmapped account",
            }
        )
        move = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.partner_a.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [Command.create({"name": "x", "price_unit": 10.0})],
            }
        )
        move.write(
            {
                "wave_id": "SW52b2ljZTox",
                "wave_origin": "wave",
                "wave_modified_at": move.create_date - timedelta(seconds=120),
            }
        )
        Log = cls.env["wave.request.log"].sudo()  # lines are written by the client's logger
        for outcome, waits, waited in (("success", 2, 1.5), ("error", 0, 0.0)):
            Log.create(
                Log._values_from_record(
                    cls.connection.id,
                    {"operation_name": "Invoices", "outcome": outcome},
                    waits=waits,
                    waited=waited,
                )
            )
        cls.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.metrics_token", TOKEN
        )

    def _get(self, headers=None):
        return self.url_open("/wave/metrics", headers=headers or {}, allow_redirects=False)

    def test_unauthorized_without_or_with_wrong_token(self):
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {TOKEN}"},
            {"Authorization": f"Bearer {TOKEN}x"},
        ):
            with self.subTest(headers=headers):
                response = self._get(headers)
                self.assertEqual(response.status_code, 401)
                self.assertNotIn("wave_", response.text)

    def test_unauthorized_when_no_token_configured(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "wave_accounting_integration.metrics_token", False
        )
        self.assertEqual(self._get({"Authorization": "Bearer "}).status_code, 401)
        self.assertEqual(self._get({"Authorization": f"Bearer {TOKEN}"}).status_code, 401)

    def _samples(self):
        response = self._get({"Authorization": f"Bearer {TOKEN}"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        self.assertNotIn("SECRET", response.text)  # no secret ever appears
        return parse(response.text)

    def test_same_series_as_before(self):
        """Every series of the hand-written exposition, no other, with the same figures."""
        before = parse(
            BEFORE.read_text()
            .replace("{company}", self.connection.company_id.name)
            .replace("{connection}", str(self.connection.id))
        )
        samples = self._samples()
        self.assertEqual(sorted(samples), sorted(before))
        self.assertEqual(samples, before)

    def test_metrics_figures(self):
        samples = self._samples()

        def value(name, **labels):
            labels.setdefault("connection", str(self.connection.id))
            found = [
                v
                for (n, lab), v in samples.items()
                if n == name and all(dict(lab).get(k) == w for k, w in labels.items())
            ]
            self.assertEqual(len(found), 1, f"{name} {labels}: {found}")
            return found[0]

        self.assertEqual(value("wave_connection_up"), 1)
        self.assertEqual(value("wave_records_synced_total", kind="invoices", state="done"), 7)
        self.assertEqual(value("wave_sync_errors_total", kind="invoices", state="failed"), 2)
        self.assertEqual(value("wave_quarantine_open"), 1)
        self.assertEqual(value("wave_requests_total", outcome="success"), 1)
        self.assertEqual(value("wave_rate_limit_wait_seconds_total", outcome="success"), 1.5)
        # The imported move arrived 120 s after its change in Wave.
        self.assertEqual(value("wave_sync_latency_seconds_bucket", le="60"), 0)
        self.assertEqual(value("wave_sync_latency_seconds_bucket", le="300"), 1)
        self.assertEqual(value("wave_sync_latency_seconds_count"), 1)
        self.assertGreaterEqual(value("wave_sync_latency_seconds_sum"), 120)
        # Run durations 30 s and 400 s.
        self.assertEqual(value("wave_sync_run_duration_seconds_bucket", le="60"), 1)
        self.assertEqual(value("wave_sync_run_duration_seconds_bucket", le="+Inf"), 2)
        self.assertEqual(
            value("wave_queue_jobs", connection=None, channel="root.wave", state="pending"), 0
        )

    def _sql(self, query, *params):
        self.env.flush_all()
        self.env.cr.execute(query, params)
        return self.env.cr.fetchone()[0]

    def test_dashboard_figures(self):
        dashboard = (
            self.env["wave.dashboard"]
            .with_user(self.wave_accountant)
            .create({"connection_id": self.connection.id})
        )
        since = fields.Datetime.now() - timedelta(days=7)
        conn = self.connection.id
        # Each figure against the database, and against the list its button opens.
        expected = {
            "quarantine_count": self._sql(
                "SELECT count(*) FROM wave_quarantine WHERE connection_id = %s AND state = 'open'",
                conn,
            ),
            "records_synced": self._sql(
                "SELECT coalesce(sum(records_done), 0) FROM wave_sync_job WHERE connection_id = %s"
                " AND parent_id IS NULL AND create_date >= %s",
                conn,
                since,
            ),
            "records_failed": self._sql(
                "SELECT count(*) FROM wave_quarantine WHERE connection_id = %s"
                " AND create_date >= %s",
                conn,
                since,
            ),
            "runs_count": self._sql(
                "SELECT count(*) FROM wave_sync_job WHERE connection_id = %s"
                " AND parent_id IS NULL AND create_date >= %s",
                conn,
                since,
            ),
            "runs_failed": self._sql(
                "SELECT count(*) FROM wave_sync_job WHERE connection_id = %s"
                " AND parent_id IS NULL AND create_date >= %s AND state = 'failed'",
                conn,
                since,
            ),
        }
        self.assertEqual(expected["records_synced"], 7)
        self.assertEqual(expected["records_failed"], 1)
        self.assertEqual({key: dashboard[key] for key in expected}, expected)
        self.assertAlmostEqual(dashboard.error_rate, 100.0 / 7, places=2)
        for method, figure in (
            ("action_open_failed_records", "records_failed"),
            ("action_open_failed_runs", "runs_failed"),
            ("action_open_runs", "runs_count"),
        ):
            with self.subTest(method=method):
                action = getattr(dashboard, method)()
                found = self.env[action["res_model"]].with_user(self.wave_accountant)
                self.assertEqual(found.search_count(action["domain"]), dashboard[figure])
        self.assertRegex(dashboard.latency_avg, r"^2 min 0\d s$")
        self.assertEqual(dashboard.latency_p95, dashboard.latency_avg)
        self.assertIn("Invoices", dashboard.last_sync_html)
        self.assertIn(str(fields.Date.today()), dashboard.per_day_html)
        # The chart: 30 days, one bar of records synced and one of records failed each.
        chart = str(dashboard.chart_html)
        self.assertEqual(chart.count("o_wave_bar_synced"), 30)
        self.assertEqual(chart.count("o_wave_bar_failed"), 30)
        self.assertIn(f"{fields.Date.today()}: 7 Records synced, 1 Records failed", chart)

    def test_latency_leaves_historical_imports_out(self):
        """An invoice a historical import brought in, changed in Wave a year ago, is no
        sync delay: the latency stays the live invoice's 2 minutes."""
        old = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [Command.create({"name": "old", "price_unit": 5.0})],
            }
        )
        old.write(
            {
                "wave_id": "SW52b2ljZTpvbGQ=",
                "wave_origin": "wave",
                "wave_modified_at": old.create_date - timedelta(days=365),
            }
        )
        self.env["wave.audit.log"].with_context(wave_source="historical_import")._log_many(
            old, "create"
        )
        dashboard = self.env["wave.dashboard"].create({"connection_id": self.connection.id})
        self.assertRegex(dashboard.latency_avg, r"^2 min 0\d s$")
        self.assertEqual(dashboard.latency_p95, dashboard.latency_avg)

    def test_disconnected_connection_shows_why_and_reconnect(self):
        self.connection.sudo().write(
            {"state": "disconnected", "last_error": "Wave refused the token (revoked)."}
        )
        dashboard = (
            self.env["wave.dashboard"]
            .with_user(self.wave_admin)
            .create({"connection_id": self.connection.id})
        )
        self.assertEqual(dashboard.connection_error, "Wave refused the token (revoked).")
        arch = dashboard.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="action_reconnect"', arch)
        self.assertIn('name="connection_error"', arch)
        accountant_arch = dashboard.with_user(self.wave_accountant).get_views([(False, "form")])[
            "views"
        ]["form"]["arch"]
        self.assertNotIn('name="action_reconnect"', accountant_arch)
        self.assertIn("Ask a Wave administrator", accountant_arch)
