# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""``account.move`` for the Wave sync: its binding to Wave, the state the inbound sync
left an imported invoice in (Wave status, paid amount, snapshot of its key fields), and
where invoices and entries enter the export (posting, reset to draft, cancel: jobs are
enqueued, the work runs in ``wave.outbound.runner`` / ``wave.invoice.saga``)."""

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..lib.urls import WAVE_INVOICE_URL_TEMPLATE, wave_invoice_url

INVOICE_URL_PARAM = "wave_accounting_integration.invoice_url_template"
WAVE_USER = "wave_accounting_integration.group_wave_user"

# account.move fields only the sync writes (see ``_wave_write_sync_state``).
SYNC_STATE_FIELDS = {"wave_synced_at", "wave_sync_snapshot", "wave_amount_paid"}


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "wave.binding.mixin"]

    # Inbound: the state of the Wave invoice when the sync last wrote this move.
    wave_status = fields.Char(string="Wave Status Code", copy=False, readonly=True)
    wave_amount_paid = fields.Float(
        copy=False,
        readonly=True,
        digits=0,
        help="Amount paid at Wave when the payments were last synced.",
    )
    wave_synced_at = fields.Datetime(copy=False, readonly=True)
    wave_estimate_id = fields.Char(
        string="Wave Estimate ID",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The Wave estimate this invoice was converted from (its quotation is linked).",
    )
    wave_kept_odoo_until = fields.Datetime(
        copy=False,
        readonly=True,
        help="Wave's version of this date or older was declined (\"Keep Odoo's\").",
    )
    wave_number = fields.Char(
        compute="_compute_wave_link",
        groups=WAVE_USER,
        help="The invoice number in Wave.",
    )
    wave_status_label = fields.Char(
        string="Wave Status", compute="_compute_wave_link", groups=WAVE_USER
    )
    wave_url = fields.Char(
        string="Open in Wave",
        compute="_compute_wave_link",
        groups=WAVE_USER,
        help="The invoice's page in Wave. The address pattern is the system parameter "
        "wave_accounting_integration.invoice_url_template ({business} and {invoice} are "
        "the Wave ids of the business and of the invoice).",
    )
    wave_sync_snapshot = fields.Json(
        copy=False, help="Key fields as the sync left them: tells which fields Odoo changed since."
    )

    @api.depends("wave_id", "wave_origin", "wave_status", "name", "payment_reference", "company_id")
    def _compute_wave_link(self):
        # sudo: the URL template is a system parameter and the business id of the
        # move's own company connection is not a secret; both are only read.
        template = (
            self.env["ir.config_parameter"].sudo().get_param(INVOICE_URL_PARAM)
            or WAVE_INVOICE_URL_TEMPLATE
        )
        Connection = self.env["wave.api"].sudo()
        businesses = {}
        statuses = {
            "DRAFT": _("Draft"),
            "SAVED": _("Approved"),
            "UNPAID": _("Unpaid"),
            "SENT": _("Sent"),
            "VIEWED": _("Viewed by the customer"),
            "PARTIAL": _("Partially paid"),
            "PAID": _("Paid"),
            "OVERDUE": _("Overdue"),
            "OVERPAID": _("Overpaid"),
        }
        for move in self:
            move.wave_status_label = (
                statuses.get(move.wave_status)
                or (move.wave_status or "").replace("_", " ").capitalize()
                or False
            )
            if not move.wave_id:
                move.wave_number = move.wave_url = False
                continue
            # Imported invoices keep Wave's number as payment reference; exported
            # ones are sent with the Odoo number.
            move.wave_number = (
                move.payment_reference if move.wave_origin == "wave" else move.name
            ) or False
            company = move.company_id
            if company not in businesses:
                businesses[company] = Connection._for_company(company).business_id
            move.wave_url = wave_invoice_url(template, businesses[company], move.wave_id) or False

    def init(self):
        super().init()
        self._wave_create_indexes()

    def _wave_snapshot(self):
        """Comparable key fields of this invoice, grouped like the conflict policies."""
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return {
            "partner": self.partner_id.id,
            "amounts": [self.currency_id.id]
            + [
                [line.product_id.id, round(line.quantity, 6), round(line.price_unit, 6)]
                for line in lines
            ],
            "taxes": [sorted(line.tax_ids.ids) for line in lines],
            "accounts": [line.account_id.id for line in lines],
            "other": [
                fields.Date.to_string(self.invoice_date),
                fields.Date.to_string(self.invoice_date_due),
                self.ref or False,
                self.payment_reference or False,
            ],
        }

    def _wave_write_binding(self, vals):
        """Write the sync's own fields without touching the invoices' journal items.

        A plain ``write`` on a posted invoice re-synchronises its dynamic lines and so
        writes a new version of every journal item, even when only these fields change,
        and marks the invoice as manually modified. The export binds an invoice up to
        four times (created, approved, sent, paid) while an accountant may be reconciling
        it: the accountant's payment then met rows changed under it and failed after
        Odoo's retries ("could not serialize access due to concurrent update").
        """
        others = sorted(name for name in vals if not name.startswith("wave_"))
        if others:
            raise ValueError(f"not Wave binding fields: {others}")
        return super(
            AccountMove,
            self.with_context(skip_invoice_sync=True, skip_is_manually_modified=True),
        )._wave_write_binding(vals)

    def _wave_write_sync_state(self, values_by_id):
        """Store the sync's own bookkeeping fields (``SYNC_STATE_FIELDS``) of many moves.

        ``values_by_id``: ``{move_id: {field: value}}``, one value per move. One
        UPDATE for the whole batch: ``account.move.write`` per move re-checks
        the balance and the hash of each (posted) move, which made the import
        spend most of its time here. These fields are not accounting data and
        nothing depends on them.
        """
        if not values_by_id:
            return
        names = sorted({name for vals in values_by_id.values() for name in vals})
        if not set(names) <= SYNC_STATE_FIELDS:
            raise ValueError(f"not sync bookkeeping fields: {set(names) - SYNC_STATE_FIELDS}")
        moves = self.browse(list(values_by_id))
        moves.flush_recordset(names)
        for name in names:
            field = self._fields[name]
            rows = [
                (move_id, field.convert_to_column(vals[name], moves.browse(move_id)))
                for move_id, vals in values_by_id.items()
                if name in vals
            ]
            cast = field.column_type[1]
            for start in range(0, len(rows), 1000):
                # raw SQL for speed (see above); values are bound parameters
                self.env.cr.execute(
                    SQL(
                        "UPDATE account_move SET %s = v.value::%s "
                        "FROM (VALUES %s) AS v(id, value) WHERE account_move.id = v.id",
                        SQL.identifier(name),
                        SQL(cast),
                        SQL(", ").join(
                            SQL("(%s, %s)", move_id, value)
                            for move_id, value in rows[start : start + 1000]
                        ),
                    )
                )
        moves.invalidate_recordset(names)

    def _wave_exportable(self):
        """Customer invoices, credit notes and plain entries not imported from Wave."""
        return self.filtered(
            lambda m: (
                m.wave_origin != "wave"
                and (
                    m.move_type in ("out_invoice", "out_refund")
                    or (
                        m.move_type == "entry"
                        and not m.origin_payment_id
                        and not m.statement_line_id
                    )
                )
            )
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["wave.outbound.runner"]._enqueue_records(
            posted._wave_exportable(), only_on_post=True
        )
        return posted

    def button_draft(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_draft()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_reset_invoices")
        return result

    def button_cancel(self):
        exported = self.filtered(lambda m: m.wave_origin == "odoo" and m.wave_id)
        result = super().button_cancel()
        self.env["wave.outbound.runner"]._enqueue_records(exported, method="_job_reset_invoices")
        return result
