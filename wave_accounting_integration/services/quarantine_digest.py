# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The daily digest of the quarantined records still to fix, per connection.

The cron (``data/wave_notification_data.xml``) calls
:meth:`WaveQuarantineDigest._cron_send_digests`; each connection with open
entries gets one message, addressed to its Wave administrators
(``wave.notifier._admin_users``), on its chatter.
"""

from collections import Counter

from markupsafe import Markup

from odoo import api, models

from ..lib.text import by_count, no_doubled_period

DIGEST_MAX_LINES = 20


class WaveQuarantineDigest(models.AbstractModel):
    _name = "wave.quarantine.digest"
    _description = "Wave Quarantine Digest"

    @api.model
    def _cron_send_digests(self):
        """One digest per connection that has open quarantine entries."""
        entries = self.env["wave.quarantine"].search(
            [("state", "=", "open")], order="create_date desc, id desc"
        )
        for connection, records in entries.grouped("connection_id").items():
            self._send_digest(connection, records)

    @api.model
    def _send_digest(self, connection, records):
        """Post the digest of ``records`` on ``connection`` for its administrators."""
        connection.ensure_one()
        admins = self.env["wave.notifier"]._admin_users(connection).filtered("email")
        if not admins:
            return False
        subject = by_count(
            len(records),
            self.env._("Wave: 1 record in quarantine"),
            self.env._("Wave: %(count)s records in quarantine"),
        )
        # sudo: the cron user mails the administrators of this connection's company
        # (chosen by _admin_users) on the connection's thread.
        return connection.sudo().message_post(
            body=self._digest_body(connection, records),
            subject=subject,
            partner_ids=admins.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )

    @api.model
    def _digest_body(self, connection, records):
        """The HTML body: counts per record type, then the newest entries."""
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
            no_doubled_period(
                by_count(
                    len(records),
                    self.env._("1 Wave record is waiting in quarantine for %(name)s."),
                    self.env._("%(count)s Wave records are waiting in quarantine for %(name)s."),
                    name=connection.display_name,
                )
            ),
            summary,
            self.env._("Record"),
            self.env._("Type"),
            self.env._("Attempts"),
            self.env._("Reason"),
            rows,
            more,
        )
