# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Webhook deliveries received from Wave: the delivery log and its deduplication key.

One row per (connection, Wave event id). A second delivery of the same event does
not create a row: it only bumps ``delivery_count`` of the first one, so the event is
processed once however often (or concurrently) Wave delivers it.
"""

from odoo import api, fields, models

EVENT_STATES = [
    ("received", "Received"),
    ("queued", "Queued"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("duplicate", "Duplicate"),
    ("ignored", "Ignored"),
]


class WaveWebhookEvent(models.Model):
    _name = "wave.webhook.event"
    _description = "Wave Webhook Event"
    _inherit = ["wave.server.fields.mixin"]
    # Written by the sync only (as superuser): users read them.
    _wave_server_fields = "__all__"
    _order = "received_at desc, id desc"
    _rec_name = "event_id"

    connection_id = fields.Many2one(
        "wave.api", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(readonly=True, index=True)
    business_id = fields.Char(string="Wave Business ID", readonly=True)
    wave_invoice_id = fields.Char(string="Wave Invoice ID", readonly=True, index=True)
    received_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    processed_at = fields.Datetime(readonly=True)
    state = fields.Selection(EVENT_STATES, default="received", required=True, index=True)
    delivery_count = fields.Integer(
        default=1, readonly=True, help="How many times Wave delivered this event."
    )
    attempts = fields.Integer(readonly=True, help="How many times the job processed it.")
    error = fields.Text(readonly=True)
    queue_job_uuid = fields.Char(string="Job UUID", readonly=True, copy=False)

    _sql_constraints = [
        (
            "event_uniq",
            "unique(connection_id, event_id)",
            "A Wave webhook event is stored once per connection.",
        ),
    ]

    @api.model
    def _register_delivery(
        self, connection, event_id, event_type, business_id, invoice_id, state="received"
    ):
        """Store a delivery; return ``(event, is_new)``.

        Raw SQL: ``INSERT ... ON CONFLICT`` is the one race-free way to deduplicate
        concurrent deliveries of the same event (a second transaction waits for the
        first and then only bumps the counter), and it avoids the ORM logging a failed
        INSERT when the unique constraint fires.
        """
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO wave_webhook_event (
                connection_id, company_id, event_id, event_type, business_id,
                wave_invoice_id, received_at, state, delivery_count, attempts,
                create_uid, create_date, write_uid, write_date
            )
            VALUES (%s, %s, %s, %s, %s, %s, now() at time zone 'UTC', %s, 1, 0,
                    %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
            ON CONFLICT (connection_id, event_id) DO UPDATE
                SET delivery_count = wave_webhook_event.delivery_count + 1,
                    write_date = now() at time zone 'UTC'
            RETURNING id, (xmax = 0) AS inserted
            """,
            (
                connection.id,
                connection.company_id.id,
                event_id,
                event_type,
                business_id,
                invoice_id,
                state,
                self.env.uid,
                self.env.uid,
            ),
        )
        event_id_db, inserted = self.env.cr.fetchone()
        event = self.browse(event_id_db)
        event.invalidate_recordset()
        return event, inserted
