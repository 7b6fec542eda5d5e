# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Telling Wave administrators when the integration needs them.

* ``self.env["wave.notifier"]._notify_admins(
                connection,summary, note)``: one activity per administrator
  (never two open ones with the same summary) and one mail;
* a sync kind that failed ``failure_notify_threshold`` times in a row calls it
  automatically (a connection that drops is notified by ``_wave_disconnect``);
* a daily digest mails the quarantined records still to fix.
"""

import logging
from collections import Counter

from markupsafe import Markup

from odoo import api, models

_logger = logging.getLogger(__name__)

ACTIVITY_TYPE_XMLID = "wave_accounting_integration.mail_activity_type_wave_attention"
DIGEST_MAX_LINES = 20


class WaveApi(models.Model):
    _name = "wave.api"
    _inherit = ["wave.api", "mail.activity.mixin"]

    # ------------------------------------------------------------------
    # Daily digest of quarantined records
    # ------------------------------------------------------------------
    @api.model
    def _cron_quarantine_digest(self):
        records = self.env["wave.quarantine"].search(
            [("state", "=", "open")], order="create_date desc, id desc"
        )
        for connection, entries in records.grouped("connection_id").items():
            connection._send_quarantine_digest(entries)

    def _quarantine_digest_body(self, records):
        self.ensure_one()
        by_type = Counter(records.mapped("record_type"))
        summary = Markup("").join(
            Markup("<li>%s: %s</li>") % (record_type, count)
            for record_type, count in sorted(by_type.items())
        )
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (r.name, r.record_type, r.attempts, ((r.reasons or "").splitlines() or [""])[0][:200])
            for r in records[:DIGEST_MAX_LINES]
        )
        more = ""
        if len(records) > DIGEST_MAX_LINES:
            more = Markup("<p>%s</p>") % self.env._(
                "... and %(count)s more.", count=len(records) - DIGEST_MAX_LINES
            )
        return Markup(
            "<p>%s</p><ul>%s</ul><table class='table table-sm'><tr><th>%s</th><th>%s</th>"
            "<th>%s</th><th>%s</th></tr>%s</table>%s"
        ) % (
            self.env._(
                "%(count)s Wave records are waiting in quarantine for %(name)s.",
                count=len(records),
                name=self.display_name,
            ),
            summary,
            self.env._("Record"),
            self.env._("Type"),
            self.env._("Attempts"),
            self.env._("Reason"),
            rows,
            more,
        )

    def _send_quarantine_digest(self, records):
        self.ensure_one()
        admins = self.env["wave.notifier"]._admin_users(self).filtered("email")
        if not admins:
            return False
        subject = self.env._("Wave: %(count)s records in quarantine", count=len(records))
        # sudo: the cron user mails the administrators on the connection's thread.
        return self.sudo().message_post(
            body=self._quarantine_digest_body(records),
            subject=subject,
            partner_ids=admins.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )


class WaveSyncJob(models.Model):
    _inherit = "wave.sync.job"

    def write(self, vals):
        newly_failed = self.browse()
        if vals.get("state") == "failed":
            newly_failed = self.filtered(lambda j: j.state != "failed" and not j.parent_id)
        result = super().write(vals)
        if newly_failed:
            newly_failed._check_consecutive_failures()
        return result

    def _check_consecutive_failures(self):
        """Notify administrators when the last N runs of a kind all failed."""
        seen = set()
        for job in self:
            connection = job.connection_id
            key = (connection.id, job.kind)
            threshold = connection.failure_notify_threshold
            if key in seen or threshold <= 0:
                continue
            seen.add(key)
            last_runs = self.search(
                [
                    ("connection_id", "=", connection.id),
                    ("kind", "=", job.kind),
                    ("parent_id", "=", False),
                    ("state", "not in", ("pending", "running", "cancelled")),
                ],
                order="create_date desc, id desc",
                limit=threshold,
            )
            if len(last_runs) < threshold or any(r.state != "failed" for r in last_runs):
                continue
            kind_label = dict(job._fields["kind"]._description_selection(self.env))[job.kind]
            self.env["wave.notifier"]._notify_admins(
                connection,
                self.env._("Wave sync failing: %(kind)s", kind=kind_label),
                self.env._(
                    "The last %(count)s runs failed. Last error: %(error)s",
                    count=threshold,
                    error=(job.error_message or "").strip()[:500],
                ),
            )
