# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Records that failed validation, kept with their payload until an accountant fixes them."""

import json
import re

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib.text import by_count, no_doubled_period
from ..mappers.invoice_inbound import item_account_id
from ..services.inbound_replay import SUCCESS as REPLAY_SUCCESS
from ..services.job_guard import replay_guard

# A menu named in a suggested fix: "[[menu:module.xmlid]]", shown as the path the
# reader sees in their own app (Invoicing or Accounting), or a plain word when the
# menu is not theirs.
MENU_TOKEN = re.compile(r"\[\[menu:([\w.]+)\]\]")

# The Odoo model of the record an inbound entry of each Wave type produces, found by
# its Wave id once the entry is resolved (contacts through their mapping).
PRODUCED_MODELS = {
    "Invoice": "account.move",
    "InvoicePayments": "account.move",
    "Estimate": "sale.order",
}


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
    suggested_fix_display = fields.Text(
        string="How to fix", compute="_compute_suggested_fix_display"
    )
    # What the record is, read from the payload (Wave's invoice or contact).
    has_summary = fields.Boolean(compute="_compute_summary")
    summary_customer = fields.Char(string="Customer", compute="_compute_summary")
    summary_number = fields.Char(string="Wave number", compute="_compute_summary")
    summary_date = fields.Char(string="Invoice date", compute="_compute_summary")
    summary_total = fields.Char(string="Total", compute="_compute_summary")
    summary_line_count = fields.Integer(string="Lines", compute="_compute_summary")
    record_name = fields.Char(string="Odoo record", compute="_compute_summary")
    # The fixes that apply now (only their buttons are shown).
    needs_currency = fields.Boolean(compute="_compute_fixes")
    unmapped_account_map_ids = fields.Many2many(
        "wave.account.map", string="Wave accounts to map", compute="_compute_fixes"
    )
    contact_map_id = fields.Many2one(
        "wave.partner.map", string="Wave contact to match", compute="_compute_fixes"
    )

    def _wave_node(self):
        """Wave's side of the payload (an invoice, a customer...), or {}."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        if isinstance(payload.get("wave"), dict):
            return payload["wave"]
        return payload

    @api.depends("payload", "res_model", "res_id")
    def _compute_summary(self):
        for record in self:
            node = record._wave_node()
            customer = node.get("customer") if isinstance(node.get("customer"), dict) else {}
            total = node.get("total") if isinstance(node.get("total"), dict) else {}
            currency = (node.get("currency") or {}).get("code") or ""
            amount = ""
            if total.get("value") not in (None, ""):
                try:
                    amount = f"{float(total['value']):,.2f} {currency}".strip()
                except (TypeError, ValueError):
                    amount = f"{total['value']} {currency}".strip()
            items = node.get("items")
            record.summary_customer = customer.get("name") or (
                node.get("name") if record.record_type in ("Customer", "Vendor") else False
            )
            record.summary_number = node.get("invoiceNumber") or False
            record.summary_date = node.get("invoiceDate") or False
            record.summary_total = amount or False
            record.summary_line_count = len(items) if isinstance(items, list) else 0
            record.has_summary = bool(
                record.summary_customer or record.summary_number or record.summary_total
            )
            target = record._odoo_record()
            record.record_name = target.display_name if target else False

    def _odoo_record(self):
        """The Odoo record the entry concerns, if it still exists and may be read."""
        self.ensure_one()
        if not (self.res_model and self.res_id and self.res_model in self.env):
            return None
        target = self.env[self.res_model].browse(self.res_id).exists()
        if not target or not target.has_access("read"):
            return None
        return target

    def _produced_record(self):
        """The Odoo record an inbound entry produced once resolved, by its Wave id."""
        self.ensure_one()
        company = self.connection_id.company_id
        if self.record_type in ("Customer", "Vendor"):
            # sudo: the mapping is the sync's; limited to this entry's connection.
            mapping = (
                self.env["wave.partner.map"]
                .sudo()
                .search(
                    [("connection_id", "=", self.connection_id.id), ("wave_id", "=", self.wave_id)],
                    limit=1,
                )
            )
            return mapping.partner_id
        model = PRODUCED_MODELS.get(self.record_type)
        if not model or model not in self.env:
            return None
        # sudo: found for the link only (it is opened with the reader's own rights);
        # limited to the company of the entry's connection.
        return (
            self.env[model]
            .sudo()
            .search([("wave_id", "=", self.wave_id), ("company_id", "=", company.id)], limit=1)
        )

    def _link_produced_records(self):
        """Resolved inbound entries that name no Odoo record point at the one the
        import produced, so that the entry shows a link to it."""
        for record in self:
            if record.state != "resolved" or record.direction != "inbound" or not record.wave_id:
                continue
            if record.res_model and record.res_id and record.res_model in self.env:
                if self.env[record.res_model].sudo().browse(record.res_id).exists():
                    continue  # sudo: whether it exists, whoever may read it
            target = record._produced_record()
            if target:
                record._wave_sync_write({"res_model": target._name, "res_id": target.id})

    @api.depends("payload", "record_type", "state", "fix_currency_id", "connection_id")
    def _compute_fixes(self):
        AccountMap = self.env["wave.account.map"]
        PartnerMap = self.env["wave.partner.map"]
        for record in self:
            record.needs_currency = bool(
                record.state == "open"
                and record.fix_currency_id
                and not record.fix_currency_id.active
            )
            record.unmapped_account_map_ids = AccountMap
            record.contact_map_id = PartnerMap
            if record.state != "open" or record.direction != "inbound":
                continue
            node = record._wave_node()
            if record.record_type == "Invoice":
                account_ids = {
                    item_account_id(item)
                    for item in node.get("items") or []
                    if isinstance(item, dict) and item_account_id(item)
                }
                if account_ids:
                    record.unmapped_account_map_ids = AccountMap.search(
                        [
                            ("connection_id", "=", record.connection_id.id),
                            ("wave_account_id", "in", list(account_ids)),
                            ("account_id", "=", False),
                        ]
                    )
                wave_type, wave_id = "customer", (node.get("customer") or {}).get("id")
            elif record.record_type in ("Customer", "Vendor"):
                wave_type, wave_id = record.record_type.lower(), record.wave_id
            else:
                continue
            if wave_id:
                mapping = PartnerMap.search(
                    [
                        ("connection_id", "=", record.connection_id.id),
                        ("wave_type", "=", wave_type),
                        ("wave_id", "=", wave_id),
                    ],
                    limit=1,
                )
                if mapping and not (mapping.partner_id and mapping.state == "matched"):
                    record.contact_map_id = mapping

    @api.depends("suggested_fix")
    @api.depends_context("uid")
    def _compute_suggested_fix_display(self):
        for record in self:
            record.suggested_fix_display = (
                self._menu_paths(record.suggested_fix) if record.suggested_fix else False
            )

    @api.model
    def _menu_paths(self, text):
        """``text`` with each ``[[menu:xmlid]]`` replaced by that menu's path as the
        current user sees it, or by a plain word when the menu is not in their app."""
        visible = None

        def path(match):
            nonlocal visible
            menu = self.env.ref(match.group(1), raise_if_not_found=False)
            if visible is None:
                visible = self.env["ir.ui.menu"]._visible_menu_ids()
            names = []
            while menu:
                # A menu shows only when each of its parents shows too.
                if menu.id not in visible:
                    return self.env._("a menu of your accounting administrator")
                names.insert(0, menu.name)
                menu = menu.parent_id
            if not names:
                return self.env._("a menu of your accounting administrator")
            return " > ".join(names)

        return MENU_TOKEN.sub(path, text)

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
        return self._replay_feedback()

    def _replay_feedback(self):
        """The notification after a replay: done, or failed again with the reason."""
        self.invalidate_recordset(["state", "reasons"])
        remaining = self.filtered(lambda r: r.state == "open")
        if not remaining:
            message = (
                _("%s was replayed and is now in sync.", self.name)
                if len(self) == 1
                else _("All %s records were replayed and are now in sync.", len(self))
            )
            kind = "success"
        elif len(self) == 1:
            message = _(
                "The replay of %(name)s failed again: %(reason)s",
                name=self.name,
                reason=self.reasons,
            )
            kind = "warning"
        else:
            message = by_count(
                len(remaining),
                _(
                    "%(fixed)s of %(total)s records were fixed; 1 still waits in quarantine "
                    "with its updated reason."
                ),
                _(
                    "%(fixed)s of %(total)s records were fixed; %(count)s still wait in "
                    "quarantine with their updated reason."
                ),
                fixed=len(self) - len(remaining),
                total=len(self),
            )
            kind = "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": kind == "warning",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_replay_in_background(self):
        """Bulk replay from the list: one background job, a message when it ends."""
        records = self.filtered(lambda r: r.state == "open")
        if not records:
            raise UserError(_("None of the selected records waits in quarantine."))
        records._check_replay_allowed()
        # company_id (context): the job is counted for the entries' company.
        records.with_context(company_id=records[0].company_id.id).with_delay(
            channel="root.wave.inbound",
            priority=15,
            description=_("Wave: replay %s quarantined records", len(records)),
        )._job_replay_many()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _(
                    "The replay of %s records runs in the background; a message tells you "
                    "the result when it ends.",
                    len(records),
                ),
                "type": "info",
            },
        }

    def _job_replay_many(self):
        """Queue job: replay each entry on its own (one failure never stops the rest),
        then tell the person who asked how many were fixed and how many remain."""
        fixed, errors = 0, []
        for record in self:
            if record.state != "open":
                continue
            try:
                with self.env.cr.savepoint():
                    record.action_replay()
            except UserError as error:
                errors.append(f"{record.name}: {error.args[0]}")
            record.invalidate_recordset(["state"])
            if record.state != "open":
                fixed += 1
        remaining = self.filtered(lambda r: r.state == "open")
        summary = by_count(
            len(self),
            _("Replay finished: %(fixed)s of 1 record fixed, %(left)s still in quarantine."),
            _(
                "Replay finished: %(fixed)s of %(count)s records fixed, %(left)s still in "
                "quarantine."
            ),
            fixed=fixed,
            left=len(remaining),
        )
        body = Markup("<p>%s</p>") % summary
        if remaining:
            body += Markup("<ul>%s</ul>") % Markup("").join(
                Markup("<li>%s: %s</li>") % (r.name, ((r.reasons or "").splitlines() or [""])[0])
                for r in remaining[:20]
            )
        if errors:
            body += Markup("<p>%s</p>") % "; ".join(errors[:5])
        user = self.env.user
        for connection in self.connection_id:
            # sudo: the note is posted on the entries' own connection (the job runs as
            # the person who asked, checked by action_replay_in_background) and
            # addressed to them.
            connection.sudo().message_post(
                body=body,
                subject=_("Wave: quarantine replay"),
                partner_ids=user.partner_id.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
        user._bus_send(
            "simple_notification",
            {
                "type": "success" if not remaining else "warning",
                "title": _("Wave: quarantine replay"),
                "message": summary,
                "sticky": bool(remaining),
            },
        )
        return summary

    def action_open_record(self):
        """Open the Odoo record the entry concerns."""
        self.ensure_one()
        target = self._odoo_record()
        if not target:
            raise UserError(_("The Odoo record of %s no longer exists.", self.name))
        return {
            "type": "ir.actions.act_window",
            "res_model": target._name,
            "res_id": target.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_map_accounts(self):
        """Map the Wave accounts of this invoice that have no Odoo account yet."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wave_accounting_integration.wave_account_map_action"
        )
        action.update(
            name=_("Accounts to map for %s", self.name),
            domain=[("id", "in", self.unmapped_account_map_ids.ids)],
            context={"create": False},
        )
        return action

    def action_choose_contact(self):
        """Choose or create the Odoo contact of the Wave customer; replay on confirm."""
        self.ensure_one()
        if not self.contact_map_id:
            raise UserError(_("The contact of %s is already matched.", self.name))
        return {
            "type": "ir.actions.act_window",
            "name": _("Contact for %s", self.contact_map_id.wave_name),
            "res_model": "wave.partner.map",
            "res_id": self.contact_map_id.id,
            "views": [
                (self.env.ref("wave_accounting_integration.wave_partner_map_view_form").id, "form")
            ],
            "target": "new",
            "context": {"wave_replay_quarantine_id": self.id},
        }

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
            self._link_produced_records()
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
                raise UserError(
                    no_doubled_period(_("Give a reason before discarding %s.", record.name))
                )
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
            entries._link_produced_records()
        return entries
