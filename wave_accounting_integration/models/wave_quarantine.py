# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Records that failed validation, kept with their payload until an accountant fixes them."""

import json

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services.inbound_replay import SUCCESS as REPLAY_SUCCESS
from ..services.job_guard import replay_guard


class WaveQuarantine(models.Model):
    _name = "wave.quarantine"
    _description = "Wave Quarantined Record"
    _inherit = ["mail.thread", "wave.server.fields.mixin"]
    # Written by the sync only; a person fixes the cause, replays or discards.
    _wave_server_fields = (
        "name",
        "direction",
        "record_type",
        "res_model",
        "res_id",
        "wave_id",
        "payload",
        "connection_id",
        "attempts",
        "sync_job_id",
        "reasons",
        "state",
        "fix_currency_id",
    )
    _order = "state, create_date desc, id desc"

    name = fields.Char(required=True)
    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    direction = fields.Selection(
        [("inbound", "Wave → Odoo"), ("outbound", "Odoo → Wave")], required=True
    )
    record_type = fields.Char(
        required=True, help="Wave type (Invoice, Customer, ...) or Odoo model."
    )
    wave_id = fields.Char(string="Wave ID", index=True)
    res_model = fields.Char(string="Odoo Model")
    res_id = fields.Many2oneReference(model_field="res_model", string="Odoo Record")
    payload = fields.Json(help="The data as received from (or to be sent to) Wave.")
    payload_display = fields.Text(compute="_compute_payload_display", string="Readable payload")
    is_conflict = fields.Boolean(compute="_compute_conflict_diff")
    conflict_diff = fields.Html(
        compute="_compute_conflict_diff",
        string="Wave and Odoo side by side",
        sanitize=False,  # built here from escaped values only
    )
    reasons = fields.Text(required=True)
    suggested_fix = fields.Text()
    attempts = fields.Integer(default=1)
    state = fields.Selection(
        [("open", "To fix"), ("resolved", "Resolved"), ("discarded", "Discarded")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    discard_reason = fields.Text()
    sync_job_id = fields.Many2one("wave.sync.job", ondelete="set null")
    fix_currency_id = fields.Many2one(
        "res.currency",
        string="Currency to activate",
        context={"active_test": False},
        help="The record needs this currency, which is not active in Odoo.",
    )
    fix_currency_active = fields.Boolean(related="fix_currency_id.active")

    @api.depends("payload")
    def _compute_payload_display(self):
        for record in self:
            record.payload_display = (
                json.dumps(record.payload, indent=2, sort_keys=True, ensure_ascii=False)
                if record.payload
                else ""
            )

    @api.depends("payload", "record_type")
    def _compute_conflict_diff(self):
        for record in self:
            payload = record.payload or {}
            both = (
                record.record_type == "Invoice"
                and isinstance(payload, dict)
                and isinstance(payload.get("wave"), dict)
                and isinstance(payload.get("odoo"), dict)
            )
            record.is_conflict = both
            record.conflict_diff = (
                record._conflict_table(payload["wave"], payload["odoo"]) if both else False
            )

    def _conflict_table(self, wave, odoo):
        """An HTML table: Wave's lines and totals next to Odoo's (escaped values only)."""
        _ = self.env._

        def money(value):
            if isinstance(value, dict):
                value = value.get("value")
            try:
                return f"{float(value):,.2f}"
            except (TypeError, ValueError):
                return ""

        def number(value):
            try:
                return f"{float(value):g}"
            except (TypeError, ValueError):
                return ""

        def cells(line):
            if not line:
                return Markup("<td></td>" * 4)
            return Markup("").join(
                Markup("<td>%s</td>") % value
                for value in (
                    line["description"],
                    line["quantity"],
                    line["unit_price"],
                    line["subtotal"],
                )
            )

        wave_lines = [
            {
                "description": item.get("description")
                or (item.get("product") or {}).get("name")
                or "",
                "quantity": number(item.get("quantity")),
                "unit_price": number(item.get("unitPrice")),
                "subtotal": money(item.get("subtotal")),
            }
            for item in wave.get("items") or []
        ]
        odoo_lines = [
            {
                "description": line.get("description") or "",
                "quantity": number(line.get("quantity")),
                "unit_price": number(line.get("unit_price")),
                "subtotal": money(line.get("subtotal")),
            }
            for line in odoo.get("lines") or []
        ]
        labels = Markup("").join(
            Markup("<th>%s</th>") % label
            for label in (_("Line"), _("Quantity"), _("Unit price"), _("Subtotal"))
        )
        head = Markup(
            "<table class='table table-sm o_wave_conflict'><thead><tr>"
            "<th colspan='4'>%s</th><th colspan='4'>%s</th></tr><tr>%s%s</tr></thead><tbody>"
        ) % (_("Wave"), _("Odoo"), labels, labels)
        rows = Markup("").join(
            Markup("<tr>%s%s</tr>")
            % (
                cells(wave_lines[i] if i < len(wave_lines) else None),
                cells(odoo_lines[i] if i < len(odoo_lines) else None),
            )
            for i in range(max(len(wave_lines), len(odoo_lines)))
        )
        totals = Markup("").join(
            Markup("<tr><th colspan='3'>%s</th><td>%s</td><th colspan='3'>%s</th><td>%s</td></tr>")
            % (label, money(wave.get(wave_key)), label, money(odoo.get(odoo_key)))
            for label, wave_key, odoo_key in (
                (_("Untaxed"), "subtotal", "amount_untaxed"),
                (_("Tax"), "taxTotal", "amount_tax"),
                (_("Total"), "total", "amount_total"),
            )
        )
        return head + rows + totals + Markup("</tbody></table>")

    def action_take_wave(self):
        """A conflict settled with Wave's version: the replay applies it."""
        return self.action_replay()

    def action_keep_odoo(self):
        """A conflict settled with Odoo's version: this Wave version is not applied, the
        entry is resolved (audited). A later change in Wave is looked at again."""
        self._wave_check_button_access()
        for record in self:
            if record.state != "open" or not record.is_conflict:
                raise UserError(_("Only open conflicts can be settled (%s).", record.name))
        # sudo: the entry's state and the move's sync bookkeeping are server-owned;
        # checked above: a Wave user of the entry's own company.
        for record in self.sudo():
            move = self.env["account.move"].sudo().browse(record.res_id).exists()
            if record.res_model != "account.move" or not move:
                raise UserError(_("The Odoo invoice of %s no longer exists.", record.name))
            if move.company_id != record.company_id:
                raise UserError(_("%s belongs to another company.", record.name))
            self.env["wave.invoice.updater"].sudo()._keep_odoo(move, record.payload["wave"])
            record.write({"state": "resolved", "discard_reason": _("Odoo's version kept.")})
            self.env["wave.audit.log"]._log_many(record, "keep_odoo", {"move": move.name})
        return True

    def _check_replay_allowed(self):
        """Replay only what the direction's switch allows, re-derived from the entry.

        The direction, model and record come from the entry, which only the sync
        writes (``_wave_server_fields``): an inbound replay needs *Import from Wave*,
        an outbound one *Export to Wave* on the entry's own connection.
        """
        self._wave_check_button_access()
        for record in self:
            connection = record.connection_id
            if record.direction == "inbound" and not connection.sync_inbound:
                raise UserError(
                    _("Import from Wave is switched off: %s cannot be replayed.", record.name)
                )
            if record.direction == "outbound" and not connection.sync_outbound:
                raise UserError(
                    _("Export to Wave is switched off: %s cannot be replayed.", record.name)
                )

    def action_replay(self):
        """Run each entry's sync again once an accountant fixed the cause.

        The one dispatch of the replay button: checks first (role, company, the
        direction's switch), then inbound entries are imported again
        (``wave.inbound.replay``), outbound ones exported again
        (``wave.outbound.replay``). Success resolves an entry; a new failure
        increments ``attempts`` and updates the reasons.
        """
        self._check_replay_allowed()
        for record in self:
            if record.state != "open":
                raise UserError(_("Only open entries can be replayed (%s).", record.name))
        # sudo: the replay writes the entries' server-owned state and attempts and
        # the sync's records, as the sync does; checked above: a Wave user of the
        # entries' companies, with the direction switched on.
        for record in self.sudo():
            if record.direction == "outbound":
                self.env["wave.outbound.replay"].sudo()._replay(record.connection_id, record)
            else:
                record._replay_inbound()
        return True

    def _replay_inbound(self):
        self.ensure_one()
        connection = self.connection_id.with_context(wave_force_wave=True)
        with replay_guard(self):
            outcome = (
                self.env["wave.inbound.replay"].with_env(connection.env)._replay(connection, self)
            )
        self.invalidate_recordset(["state", "attempts"])
        if outcome in REPLAY_SUCCESS:
            if self.state == "open":
                self.state = "resolved"
            self.env["wave.audit.log"]._log_many(self, "replay", {"outcome": outcome})
        elif self.state == "open" and outcome not in ("quarantined", "conflict"):
            self.attempts += 1

    def action_activate_currency_and_replay(self):
        """The one-click fix of an invoice in an inactive currency: activate it, replay."""
        self._check_replay_allowed()
        for record in self:
            if record.state == "open" and record.fix_currency_id:
                self.env["wave.books.setup"]._activate_currencies(
                    record.connection_id, record.fix_currency_id
                )
        return self.filtered(lambda r: r.state == "open").action_replay()

    def action_discard(self):
        self._wave_check_button_access()
        for record in self:
            if not record.discard_reason:
                raise UserError(_("Give a reason before discarding %s.", record.name))
        # sudo: the state is server-owned; checked above (Wave user, own company).
        self.sudo().write({"state": "discarded"})
        self.env["wave.audit.log"]._log_many(
            self, "discard", lambda r: {"reason": r.discard_reason}
        )
        return True

    # ------------------------------------------------------------------
    # The one home for opening, bumping and resolving entries
    # ------------------------------------------------------------------
    @api.model
    def _open_or_bump(
        self,
        connection,
        direction,
        record_type,
        reasons,
        wave_id=False,
        record=None,
        payload=None,
        suggested_fix=False,
        name=None,
        sync_job=None,
        fix_currency=None,
    ):
        """Open the quarantine entry of one Wave or Odoo record, or bump its open one.

        An inbound entry is keyed by ``(record_type, wave_id)``, an outbound entry by
        the Odoo ``record``. Written by the sync for whoever runs it: users may only
        read and fix entries (see the access rules).
        """
        if not isinstance(reasons, str):
            reasons = "\n".join(str(reason) for reason in reasons)
        key = [
            ("connection_id", "=", connection.id),
            ("direction", "=", direction),
            ("state", "=", "open"),
        ]
        if direction == "outbound" and record is not None:
            key += [("res_model", "=", record._name), ("res_id", "=", record.id)]
        else:
            key += [("record_type", "=", record_type), ("wave_id", "=", wave_id)]
        # sudo: quarantine entries are written by the sync only, always on the
        # connection's own company (company_id is related to connection_id).
        Quarantine = self.sudo()
        vals = {
            "reasons": reasons,
            "payload": payload or {},
            "suggested_fix": suggested_fix or False,
        }
        if sync_job:
            vals["sync_job_id"] = sync_job.id
        vals["fix_currency_id"] = fix_currency.id if fix_currency else False
        if record:
            vals.update(res_model=record._name, res_id=record.id)
        existing = Quarantine.search(key, limit=1)
        if existing:
            existing.write(dict(vals, attempts=existing.attempts + 1))
            return existing
        return Quarantine.create(
            dict(
                vals,
                name=name or (record.display_name if record else f"{record_type} {wave_id}"),
                connection_id=connection.id,
                direction=direction,
                record_type=record_type,
                wave_id=wave_id or (getattr(record, "wave_id", False) if record else False),
            )
        )

    @api.model
    def _resolve_open(self, connection, direction, record_type=None, wave_ids=None, records=None):
        """Mark resolved the open entries of these Wave ids or Odoo records (audited)."""
        domain = [
            ("connection_id", "=", connection.id),
            ("direction", "=", direction),
            ("state", "=", "open"),
        ]
        if records is not None:
            if not records:
                return self
            domain += [("res_model", "=", records._name), ("res_id", "in", records.ids)]
        else:
            if not wave_ids:
                return self
            domain += [("record_type", "=", record_type), ("wave_id", "in", list(wave_ids))]
        # sudo: see _open_or_bump.
        entries = self.sudo().search(domain)
        if entries:
            entries.write({"state": "resolved"})
            self.env["wave.audit.log"]._log_many(entries, "resolve", {"state": "resolved"})
        return entries
