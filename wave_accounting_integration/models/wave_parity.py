# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Ledger parity report: Wave's invoices against the Odoo invoices bound to them.

A report is computed by ``wave.parity.checker._compute_report`` (``services/parity.py``,
comparison in ``services/parity_compare.py``) for a date range of invoice dates. Its
lines compare one figure each, in the invoice currency and to the smallest currency
unit: invoice counts and totals per status, amounts per mapped account, customer
balances, tax totals, and, for each invoice that differs, its status, total and
amount due. When estimates are imported, Wave's estimates of the range are compared
with their quotations too (status, currency, total and tax). Aggregate lines are
always kept (they are the summary of the range); invoice and estimate lines only
when they differ.
"""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools.misc import formatLang

CATEGORIES = [
    ("status_count", "Invoice count per status"),
    ("status_total", "Invoice total per status"),
    ("account", "Amount per mapped account"),
    ("partner", "Customer balance"),
    ("tax", "Tax total"),
    ("invoice", "Invoice"),
    ("estimate", "Estimate"),
]


def _is_number(text):
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


class WaveParityReport(models.Model):
    _name = "wave.parity.report"
    _description = "Wave Ledger Parity Report"
    _inherit = ["wave.server.fields.mixin"]
    _order = "computed_at desc, id desc"

    name = fields.Char(compute="_compute_name")
    connection_id = fields.Many2one(
        "wave.api", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    date_from = fields.Date(required=True, readonly=True)
    date_to = fields.Date(required=True, readonly=True)
    computed_at = fields.Datetime(default=fields.Datetime.now, readonly=True)
    wave_invoice_count = fields.Integer(readonly=True, help="Wave invoices in the range.")
    odoo_invoice_count = fields.Integer(
        readonly=True, help="Odoo invoices bound to Wave in the range."
    )
    request_count = fields.Integer(
        readonly=True, help="Requests sent to Wave to compute this report."
    )
    line_ids = fields.One2many("wave.parity.line", "report_id", readonly=True)
    difference_count = fields.Integer(
        compute="_compute_difference_count", store=True, help="Lines whose two sides differ."
    )
    summary_html = fields.Html(
        compute="_compute_summary_html",
        sanitize=False,
        string="Verdict",
        help="Whether Wave and Odoo match, and the invoice totals per currency.",
    )
    quarantine_count = fields.Integer(
        compute="_compute_summary_html",
        string="In quarantine",
        help="Records of this connection waiting in the quarantine.",
    )

    @api.depends("date_from", "date_to")
    def _compute_name(self):
        for report in self:
            report.name = self.env._(
                "Parity %(date_from)s - %(date_to)s",
                date_from=report.date_from,
                date_to=report.date_to,
            )

    @api.depends("line_ids.is_difference")
    def _compute_difference_count(self):
        counts = dict(
            self.env["wave.parity.line"]._read_group(
                [("report_id", "in", self.ids), ("is_difference", "=", True)],
                ["report_id"],
                ["__count"],
            )
        )
        for report in self:
            report.difference_count = counts.get(report, 0)

    @api.depends("difference_count", "line_ids")
    def _compute_summary_html(self):
        for report in self:
            report.quarantine_count = self.env["wave.quarantine"].search_count(
                [("connection_id", "=", report.connection_id.id), ("state", "=", "open")]
            )
            report.summary_html = report._render_summary()

    def _render_summary(self):
        """A headline (match, or how many differences) and the totals per currency:
        amounts in different currencies are never added together."""
        self.ensure_one()
        _ = self.env._
        if self.difference_count:
            headline = Markup("<div class='alert alert-danger o_wave_parity_verdict'>%s</div>") % (
                _("%s differences between Wave and Odoo", self.difference_count)
                if self.difference_count > 1
                else _("1 difference between Wave and Odoo")
            )
        else:
            headline = Markup("<div class='alert alert-success o_wave_parity_verdict'>%s</div>") % (
                _("Wave and Odoo match")
            )
        totals = {}
        for line in self.line_ids.filtered(
            lambda ln: ln.category == "status_total" and ln.currency_id
        ):
            wave, odoo = totals.get(line.currency_id, (0.0, 0.0))
            totals[line.currency_id] = (wave + line.wave_amount, odoo + line.odoo_amount)
        if not totals:
            return headline
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td></tr>")
            % (
                currency.name,
                formatLang(self.env, wave, currency_obj=currency),
                formatLang(self.env, odoo, currency_obj=currency),
            )
            for currency, (wave, odoo) in sorted(totals.items(), key=lambda kv: kv[0].name)
        )
        return headline + Markup(
            "<table class='table table-sm o_wave_parity_totals'><thead><tr><th>%s</th>"
            "<th class='text-end'>%s</th><th class='text-end'>%s</th></tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (_("Currency"), _("Invoices in Wave"), _("Invoices in Odoo"), rows)

    def action_open_report(self):
        """The report with its verdict."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_open_quarantine(self):
        """The quarantine of the report's connection: what the sync could not bring in."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wave_accounting_integration.wave_quarantine_action"
        )
        action["domain"] = [("connection_id", "=", self.connection_id.id)]
        return action

    def action_open_lines(self, only_differences=False):
        """The report's lines, grouped by category."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wave_accounting_integration.wave_parity_line_action"
        )
        action["domain"] = [("report_id", "=", self.id)]
        context = {"group_by": ["category"], "default_report_id": self.id}
        if only_differences:
            context["search_default_filter_differences"] = 1
        action["context"] = context
        action["name"] = self.name
        return action

    def action_open_differences(self):
        return self.action_open_lines(only_differences=True)


class WaveParityLine(models.Model):
    _name = "wave.parity.line"
    _description = "Wave Ledger Parity Line"
    _order = "report_id, sequence, id"

    report_id = fields.Many2one(
        "wave.parity.report", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="report_id.company_id", store=True)
    sequence = fields.Integer(readonly=True)
    category = fields.Selection(CATEGORIES, required=True, readonly=True, index=True)
    key = fields.Char(required=True, readonly=True, help="What is compared.")
    currency_id = fields.Many2one("res.currency", readonly=True)
    wave_value = fields.Char(readonly=True)
    odoo_value = fields.Char(readonly=True)
    wave_amount = fields.Monetary(readonly=True)
    odoo_amount = fields.Monetary(readonly=True)
    difference = fields.Monetary(readonly=True, help="Wave minus Odoo.")
    is_difference = fields.Boolean(string="Differs", readonly=True, index=True)
    res_model = fields.Char(string="Odoo Model", readonly=True)
    res_id = fields.Many2oneReference(string="Odoo Record", model_field="res_model", readonly=True)
    wave_id = fields.Char(string="Wave ID", readonly=True)
    wave_shown = fields.Char(compute="_compute_shown", string="In Wave")
    odoo_shown = fields.Char(compute="_compute_shown", string="In Odoo")
    difference_shown = fields.Char(compute="_compute_shown", string="Wave minus Odoo")

    @api.depends("currency_id", "wave_value", "odoo_value", "wave_amount", "odoo_amount")
    def _compute_shown(self):
        """Amounts as money in their own currency; counts and statuses as they are."""
        for line in self:
            currency = line.currency_id
            if not currency:
                line.wave_shown, line.odoo_shown = line.wave_value, line.odoo_value
                line.difference_shown = ""
                if line.category == "status_count" and line.is_difference:
                    line.difference_shown = str(round(line.difference))
                continue

            def money(value, raw, currency=currency):
                text = formatLang(self.env, value, currency_obj=currency)
                if raw and not _is_number(raw):
                    return f"{raw} ({text})"  # a missing invoice: its status and total
                return text

            line.wave_shown = money(line.wave_amount, line.wave_value)
            line.odoo_shown = money(line.odoo_amount, line.odoo_value)
            line.difference_shown = (
                formatLang(self.env, line.difference, currency_obj=currency)
                if line.is_difference
                else ""
            )

    def action_open_record(self):
        """Open the Odoo record the line is about."""
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }
