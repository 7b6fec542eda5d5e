# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Processing of a received Wave webhook event: import its invoice's current state.

The payload is never trusted (a late, older event cannot roll data back): the
invoice is read again from Wave and imported by Wave id, which makes processing
idempotent. Every queued event of the same invoice is settled by the same run.
The queue job is ``wave.webhook.event._job_process_webhook``
(``models/wave_jobs_inbound.py``).
"""

from odoo import api, fields, models

# Events still waiting to be settled by a processing run.
PENDING_STATES = ("received", "queued", "failed")


class WaveWebhookProcessor(models.AbstractModel):
    _name = "wave.webhook.processor"
    _description = "Wave Webhook Event Processing"

    @api.model
    def _pending_siblings(self, connection, event):
        """``event`` and the other pending events of the same Wave invoice."""
        # sudo: events are written by the sync only (state, attempts); these are the
        # events of this connection only.
        return (
            self.env["wave.webhook.event"]
            .sudo()
            .search(
                [
                    ("connection_id", "=", connection.id),
                    ("wave_invoice_id", "=", event.wave_invoice_id),
                    ("state", "in", PENDING_STATES),
                ]
            )
            # the event itself: the job's own record, of this same connection
            | event.sudo()
        )

    @api.model
    def _import_event(self, connection, event):
        """Import the current state of the event's invoice (and its payments) from Wave."""
        return self.env["wave.invoice.importer"]._import_by_ids(
            connection.with_context(wave_source=f"webhook:{event.event_id}"),
            [event.wave_invoice_id],
            source="webhook",
        )

    @api.model
    def _settle(self, connection, events, error=None):
        """Mark ``events`` done, or failed with ``error``."""
        if error is not None:
            events.write({"state": "failed", "error": str(error)})
        else:
            events.write({"state": "done", "error": False, "processed_at": fields.Datetime.now()})
