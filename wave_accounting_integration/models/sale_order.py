# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``sale.order`` bound to a Wave estimate: its Wave number, status and link, the
deposit and exchange rate Wave shows (the sync writes them, see
``wave.estimate.importer``)."""

from odoo import _, api, fields, models

from ..lib.urls import WAVE_ESTIMATE_URL_TEMPLATE, wave_estimate_url

ESTIMATE_URL_PARAM = "wave_accounting_integration.estimate_url_template"
WAVE_USER = "wave_accounting_integration.group_wave_user"
#: Fields the sync writes on an order (its Wave binding): no export is enqueued for them.
BINDING_FIELDS = {
    "wave_id",
    "wave_origin",
    "wave_modified_at",
    "wave_status",
    "wave_estimate_number",
    "wave_accepted",
    "wave_cancel_reason",
    "wave_exchange_rate",
    "wave_deposit_total",
}
# A salesperson sees where a quotation stands in Wave (number, status, link) on the
# quotation form; the Wave screens, settings and the other Wave fields stay closed.
WAVE_USER_OR_SALESPERSON = f"{WAVE_USER},sales_team.group_sale_salesman"


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "wave.binding.mixin"]

    wave_estimate_number = fields.Char(copy=False, readonly=True, groups=WAVE_USER_OR_SALESPERSON)
    wave_status = fields.Char(string="Wave Status Code", copy=False, readonly=True)
    wave_status_label = fields.Char(
        string="Wave Status", compute="_compute_wave_link", groups=WAVE_USER_OR_SALESPERSON
    )
    wave_url = fields.Char(
        string="Open in Wave",
        compute="_compute_wave_link",
        groups=WAVE_USER_OR_SALESPERSON,
        help="The estimate's page in Wave. The address pattern is the system parameter "
        "wave_accounting_integration.estimate_url_template ({business} and {estimate} are "
        "the Wave ids of the business and of the estimate).",
    )
    wave_accepted = fields.Boolean(
        string="Accepted in Wave",
        copy=False,
        readonly=True,
        help='The customer accepted the estimate in Wave. When the setting "When Wave says '
        'an estimate is accepted" is "Mark the quotation as accepted", the quotation is '
        "not confirmed for all that.",
    )
    wave_cancel_reason = fields.Char(
        string="Cancelled in Wave because", copy=False, readonly=True, groups=WAVE_USER
    )
    wave_exchange_rate = fields.Float(
        copy=False,
        readonly=True,
        digits=0,
        groups=WAVE_USER,
        help="Wave's rate from the estimate's currency to the business currency.",
    )
    wave_deposit_total = fields.Monetary(
        string="Deposit Requested in Wave",
        copy=False,
        readonly=True,
        groups=WAVE_USER,
        help="The deposit the Wave estimate asks for (booked as the invoices' payments are, "
        "when Wave records it).",
    )

    def write(self, vals):
        res = super().write(vals)
        # Sent, confirmed or changed: sent to Wave as an estimate when the setting asks.
        if set(vals) - BINDING_FIELDS:
            self.env["wave.outbound.runner"]._enqueue_estimates(self)
        return res

    def init(self):
        super().init()
        self._wave_create_indexes()

    @api.depends("wave_id", "wave_status", "company_id")
    def _compute_wave_link(self):
        # sudo: the URL template is a system parameter and the business id of the
        # order's own company connection is not a secret; both are only read.
        template = (
            self.env["ir.config_parameter"].sudo().get_param(ESTIMATE_URL_PARAM)
            or WAVE_ESTIMATE_URL_TEMPLATE
        )
        Connection = self.env["wave.api"].sudo()
        statuses = {
            "DRAFT": _("Draft"),
            "APPROVED": _("Approved"),
            "SENT": _("Sent"),
            "VIEWED": _("Viewed by the customer"),
            "ACCEPTED": _("Accepted"),
            "REJECTED": _("Declined by the customer"),
            "EXPIRED": _("Expired"),
            "CONVERTED": _("Turned into an invoice"),
            "DELETED": _("Deleted in Wave"),
        }
        businesses = {}
        for order in self:
            order.wave_status_label = statuses.get(order.wave_status) or order.wave_status or False
            url = False
            if order.wave_id:
                company = order.company_id.id
                if company not in businesses:
                    businesses[company] = Connection.search(
                        [("company_id", "=", company)], limit=1
                    ).business_id
                url = wave_estimate_url(template, businesses[company], order.wave_id) or False
            order.wave_url = url
