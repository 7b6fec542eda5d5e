# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave chart-of-accounts entries and the Odoo accounts they are booked to."""

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

WAVE_ACCOUNT_TYPES = [
    ("ASSET", "Asset"),
    ("LIABILITY", "Liability"),
    ("EQUITY", "Equity"),
    ("INCOME", "Income"),
    ("EXPENSE", "Expense"),
]


class WaveAccountMap(models.Model):
    _name = "wave.account.map"
    _description = "Wave Account Mapping"
    _inherit = ["wave.server.fields.mixin"]
    _order = "wave_account_type, wave_account_name, id"
    _rec_name = "wave_account_name"

    connection_id = fields.Many2one("wave.api", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(
        related="connection_id.company_id", store=True, index=True, precompute=True
    )
    wave_account_id = fields.Char(string="Wave Account ID", required=True, index=True)
    wave_account_name = fields.Char(string="Wave Account", required=True)
    wave_account_type = fields.Selection(WAVE_ACCOUNT_TYPES, string="Wave Type")
    wave_account_subtype = fields.Char(
        string="Wave Subtype Code", help="As Wave names it, e.g. CASH_AND_BANK, INCOME."
    )
    wave_account_subtype_label = fields.Char(
        string="Wave Subtype", compute="_compute_wave_account_subtype_label"
    )
    wave_account_code = fields.Char(string="Wave Code")
    wave_currency = fields.Char()
    wave_sequence = fields.Integer(help="Wave's change counter, used to detect edits.")
    wave_archived = fields.Boolean(
        string="Archived in Wave",
        help="Archived in Wave: no new entries use it there; old ones keep its mapping.",
    )
    account_id = fields.Many2one(
        "account.account", string="Odoo Account", check_company=True, index=True
    )
    suggested_account_id = fields.Many2one(
        "account.account", string="Suggestion", check_company=True
    )
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        help="For Wave bank and card accounts: the Odoo journal payments are posted in.",
    )
    use_suspense = fields.Boolean(
        compute="_compute_use_suspense",
        store=True,
        help="Lines on this Wave account are booked to the suspense account until it is mapped.",
    )

    _sql_constraints = [
        (
            "wave_account_uniq",
            "unique(connection_id, wave_account_id)",
            "A Wave account can be mapped only once per connection.",
        ),
    ]

    @api.depends("wave_account_subtype")
    def _compute_wave_account_subtype_label(self):
        # Wave's enum (RECEIVABLE_INVOICES) in words: "Receivable invoices".
        for line in self:
            code = line.wave_account_subtype or ""
            line.wave_account_subtype_label = code.replace("_", " ").capitalize()

    @api.depends("account_id")
    def _compute_use_suspense(self):
        for mapping in self:
            mapping.use_suspense = not mapping.account_id

    def action_accept_suggestion(self):
        """Book these Wave accounts to their suggested Odoo accounts."""
        todo = self.filtered(lambda m: m.suggested_account_id and not m.account_id)
        for mapping in todo:
            mapping.account_id = mapping.suggested_account_id
        return True

    @api.model
    def action_accept_all_suggestions(self):
        """Accept the suggestion of every unmapped Wave account that has one."""
        todo = self.search([("account_id", "=", False), ("suggested_account_id", "!=", False)])
        if not todo:
            raise UserError(_("No suggestion waits: every suggested account is mapped."))
        todo.action_accept_suggestion()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": _("%s suggested accounts accepted.", len(todo)),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # Map look-ups of the import are cached; any change of a map clears the cache.
    @api.model
    @tools.ormcache("connection_id")
    def _cached_map(self, connection_id):
        """``{wave_account_id: (account_id, journal_id)}`` of one connection (ids only)."""
        maps = self.search_fetch(
            [("connection_id", "=", connection_id)],
            ["wave_account_id", "account_id", "journal_id"],
        )
        return {m.wave_account_id: (m.account_id.id, m.journal_id.id) for m in maps}

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result
