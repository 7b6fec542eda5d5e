# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The "Parity report" dialog: choose a range, compare, open the result."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import WaveError


class WaveParityReportWizard(models.TransientModel):
    _name = "wave.parity.report.wizard"
    _description = "Wave Ledger Parity Check"
    _inherit = ["wave.server.fields.mixin"]

    connection_id = fields.Many2one(
        "wave.api",
        required=True,
        default=lambda self: self.env["wave.api"]._for_company(),
    )
    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.today().replace(month=1, day=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    last_report_id = fields.Many2one(related="connection_id.last_parity_report_id")
    last_difference_count = fields.Integer(related="connection_id.last_parity_difference_count")

    @api.onchange("date_from", "date_to")
    def _onchange_dates(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            self.date_to = self.date_from

    def action_compute(self):
        """Compare Wave and Odoo over the range and open the result."""
        self.ensure_one()
        try:
            report = self.env["wave.parity.checker"]._compute_report(
                self.connection_id, self.date_from, self.date_to
            )
        except WaveError as error:
            # Wave unreachable or the token refused: a plain message, not a crash.
            raise UserError(error.message) from None
        return report.action_open_report()

    def action_open_reports(self):
        """The reports computed so far for this connection."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "wave_accounting_integration.wave_parity_report_action"
        )
        action["domain"] = [("connection_id", "=", self.connection_id.id)]
        return action
