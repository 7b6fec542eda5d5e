# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave ids on Odoo records: indexed, unique per company."""

from odoo import fields, models, tools


class WaveBindingMixin(models.AbstractModel):
    """A Wave global id on an Odoo record.

    The id is unique per company. Models whose company may be empty (contacts,
    products) get a unique expression index over ``COALESCE(company_id, 0)``,
    which a plain SQL constraint cannot express because NULLs never collide.
    """

    _name = "wave.binding.mixin"
    _description = "Wave Binding"
    _wave_id_fields = ("wave_id",)
    _wave_company_column = "company_id"

    wave_id = fields.Char(string="Wave ID", index=True, copy=False, readonly=True)
    wave_origin = fields.Selection(
        [("wave", "Imported from Wave"), ("odoo", "Exported to Wave")],
        copy=False,
        readonly=True,
        help="Where the record was born: used to never send Wave's own records back to it.",
    )
    wave_modified_at = fields.Datetime(
        string="Wave Last Change",
        copy=False,
        readonly=True,
        help="modifiedAt of the Wave object when it was last synced.",
    )

    def _wave_create_indexes(self):
        """Called from ``init()`` of each concrete model: some ``init()`` overrides
        in the base models (product.product, sequence.mixin) do not call super,
        so a mixin ``init()`` would not be reached reliably."""
        for field_name in self._wave_id_fields:
            tools.create_unique_index(
                self._cr,
                f"{self._table}_{field_name}_company_uniq",
                self._table,
                [field_name, f"COALESCE({self._wave_company_column}, 0)"],
            )
