# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The outbound ledger: what we asked Wave to create, and what came of it.

Wave's create mutations are not idempotent (money transactions cannot even be
read back), so every object we ask Wave to create gets one ledger row keyed by
a deterministic ``external_id`` (``odoo-<db>-<model>-<id>[-<sub>]-v<version>``):

* ``pending``: written (and committed) before anything is sent;
* ``sent``: committed right before the request leaves; a row still ``sent``
  after its job ended means the worker died mid-request: its outcome is unknown;
* ``confirmed``: Wave answered (or a lookup / an accountant proved) that the
  object exists; ``wave_id`` holds its id when known;
* ``outcome_unknown``: the response was lost and Wave cannot be searched for the
  object: it waits in the *Needs confirmation* queue, never resent blindly;
* ``failed``: Wave refused it (quarantined) or the retries ran out;
* ``compensated``: the Wave side was undone (draft deleted, payment deleted).
"""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

LEDGER_STATES = [
    ("pending", "Pending"),
    ("sent", "Sent"),
    ("confirmed", "Confirmed"),
    ("outcome_unknown", "Needs confirmation"),
    ("failed", "Failed"),
    ("compensated", "Compensated"),
]
LEDGER_KINDS = [
    ("customer", "Customer"),
    ("product", "Product"),
    ("sales_tax", "Sales tax"),
    ("invoice", "Customer invoice"),
    ("estimate", "Estimate (quotation)"),
    ("payment", "Invoice payment"),
    ("money_transaction", "Money transaction"),
]
#: States of an entry an accountant may confirm (typing in its Wave id first).
CONFIRMABLE = ("outcome_unknown", "sent")
SAGA_STEPS = [
    ("none", "Not created"),
    ("created", "Created (draft)"),
    ("approved", "Approved"),
    ("sent", "Sent"),
    ("accepted", "Accepted"),
]


class WaveOutboundLedger(models.Model):
    _name = "wave.outbound.ledger"
    _description = "Wave Outbound Ledger Entry"
    _inherit = ["mail.thread", "wave.server.fields.mixin"]
    # Every field is the sync's: the outbound engine writes through
    # ``_wave_sync_create`` / ``_wave_sync_write`` (company check, then superuser).
    # Users, administrators included, may only type in the Wave id of an entry
    # waiting for confirmation.
    _wave_server_fields = "__all__"
    _order = "id desc"
    _rec_name = "external_id"

    external_id = fields.Char(
        string="External ID",
        required=True,
        readonly=True,
        copy=False,
        help="Our deterministic key of this Wave object (sent as externalId where Wave has one).",
    )
    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    kind = fields.Selection(LEDGER_KINDS, required=True, index=True, readonly=True)
    operation = fields.Char(readonly=True, help="The Wave mutation used to create the object.")
    res_model = fields.Char(string="Odoo Model", required=True, index=True, readonly=True)
    res_id = fields.Many2oneReference(
        model_field="res_model", string="Odoo Record", required=True, index=True, readonly=True
    )
    sub_key = fields.Char(
        readonly=True,
        default="",
        help="Distinguishes several Wave objects of one Odoo record (e.g. a payment per invoice).",
    )
    record_name = fields.Char(string="Odoo record", readonly=True)
    record_type = fields.Char(string="Record type", compute="_compute_record_type")
    version = fields.Integer(default=1, required=True, readonly=True)
    state = fields.Selection(
        LEDGER_STATES, default="pending", required=True, index=True, tracking=True
    )
    saga_step = fields.Selection(
        SAGA_STEPS,
        string="Progress in Wave",
        default="none",
        required=True,
        tracking=True,
        help="How far Odoo got with this invoice or estimate in Wave: created as a draft, "
        "approved, sent, accepted (estimates).",
    )
    wave_id = fields.Char(string="Wave ID", index=True, tracking=True)
    payload_hash = fields.Char(readonly=True, help="Fingerprint of the data last sent.")
    amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency")
    request_summary = fields.Json(readonly=True, help="What we sent (no secrets).")
    evidence = fields.Json(readonly=True, help="Why the outcome is unknown: error, time, request.")
    evidence_display = fields.Text(compute="_compute_evidence_display")
    error_message = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True, help="Failed attempts so far.")
    sent_at = fields.Datetime(readonly=True)
    confirmed_at = fields.Datetime(readonly=True)
    confirmed_by_id = fields.Many2one("res.users", readonly=True)
    resolution = fields.Selection(
        [
            ("response", "Wave's answer"),
            ("lookup", "Found in Wave by lookup"),
            ("manual", "Confirmed by an accountant"),
        ],
        readonly=True,
    )

    _sql_constraints = [
        ("external_id_uniq", "unique(external_id)", "An external id is used only once."),
        (
            "record_version_uniq",
            "unique(connection_id, res_model, res_id, sub_key, version)",
            "One ledger entry per record, sub-key and version.",
        ),
    ]

    @api.depends("res_model")
    def _compute_record_type(self):
        IrModel = self.env["ir.model"]
        for entry in self:
            model = IrModel._get(entry.res_model) if entry.res_model else IrModel
            entry.record_type = model.name or entry.res_model

    @api.depends("record_name", "kind")
    def _compute_display_name(self):
        # The page title: the Odoo record, not the technical external id.
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        for entry in self:
            entry.display_name = entry.record_name or kinds.get(entry.kind) or entry.external_id

    @api.depends("evidence", "request_summary")
    def _compute_evidence_display(self):
        import json

        for entry in self:
            parts = []
            if entry.evidence:
                parts.append(json.dumps(entry.evidence, indent=2, sort_keys=True, default=str))
            if entry.request_summary:
                parts.append(
                    json.dumps(entry.request_summary, indent=2, sort_keys=True, default=str)
                )
            entry.evidence_display = "\n\n".join(parts)

    def _wave_server_owned(self, vals):
        """Everything is written by the sync, except the Wave id an accountant types in
        before *Confirm it exists* on an entry waiting for confirmation."""
        names = [name for name in vals if name in self._fields]
        if "wave_id" in vals and all(e.state in CONFIRMABLE for e in self):
            names.remove("wave_id")
        return sorted(names)

    def _record(self):
        """The Odoo record of this entry (may be empty when deleted)."""
        self.ensure_one()
        if self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    # ------------------------------------------------------------------
    # The "needs confirmation" queue
    # ------------------------------------------------------------------
    def action_confirm_exists(self):
        """The accountant checked Wave: the object exists (with ``wave_id`` if filled in)."""
        self._wave_check_button_access()
        todo = self.filtered(lambda e: e.state in CONFIRMABLE)
        if not todo:
            raise UserError(_("Only entries waiting for confirmation can be confirmed."))
        # sudo: state and resolution are server-owned; checked above (role, company).
        todo = todo.sudo()
        todo.write(
            {
                "state": "confirmed",
                "resolution": "manual",
                "confirmed_at": fields.Datetime.now(),
                "confirmed_by_id": self.env.uid,
            }
        )
        Service = self.env["wave.outbound.ledger.service"]
        for entry in todo:
            Service._apply_confirmed(entry.connection_id, entry)
        self.env["wave.audit.log"]._log_many(
            todo, "outbound_confirmed", lambda e: {"wave_id": e.wave_id, "by": self.env.user.name}
        )
        return True

    def action_release_resend(self):
        """The accountant checked Wave: the object is not there, send it again."""
        self._wave_check_button_access()
        todo = self.filtered(lambda e: e.state in (*CONFIRMABLE, "failed"))
        if not todo:
            raise UserError(_("Only unconfirmed or failed entries can be sent again."))
        # sudo: state and attempts are server-owned; checked above (role, company).
        todo = todo.sudo()
        todo.write({"state": "pending", "attempts": 0, "error_message": False})
        self.env["wave.audit.log"]._log_many(
            todo, "outbound_released", lambda e: {"by": self.env.user.name}
        )
        for connection in todo.connection_id:
            entries = todo.filtered(lambda e, c=connection: e.connection_id == c)
            for model in set(entries.mapped("res_model")):
                ids = entries.filtered(lambda e, m=model: e.res_model == m).mapped("res_id")
                self.env["wave.outbound.runner"]._enqueue(connection, model, ids)
        return True
