# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave ids on Odoo records: indexed, unique per company; new rows claimed race-safely."""

from odoo import fields, models, sql_db, tools
from odoo.tools import SQL


class ConcurrentRowsError(Exception):
    """Rows this job needs were just created by another job: run the job again.

    The job's snapshot (REPEATABLE READ) cannot see rows committed after it began,
    so it cannot use them in this transaction; its next run finds them.
    """


def claim_new_rows(model, scope_field, scope_id, key_field, keys, make_vals):
    """Create the rows of ``keys`` that no other transaction has created; race-safe.

    Two jobs may discover the same Wave records at once (two import chunks, a poll
    and a webhook). Each new key is locked first, so that the second job waits
    until the first has committed, then looked up in what is committed; only the
    keys still free are created, with ``make_vals(key)`` (called for them only:
    it may create other records, e.g. an Odoo account). The unique index never
    fires and nothing is created twice.

    Returns ``(created records, keys another transaction created)``: this
    transaction cannot see the rows of the latter (the caller raises
    :class:`ConcurrentRowsError` when it needs them).
    """
    keys = list(dict.fromkeys(keys))  # created in the caller's order
    if not keys:
        return model.browse(), set()
    model.flush_model([scope_field, key_field])
    table = model._table
    # Raw SQL: the ORM has no advisory locks. One lock a key, held until commit, taken
    # in sorted order so that two jobs claiming overlapping keys never deadlock.
    for key in sorted(keys):
        model.env.cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", f"{table}:{scope_id}:{key}"
            )
        )
    # A new transaction (its snapshot begins now, after the locks were granted) sees
    # the rows the other job committed; this transaction's snapshot cannot.
    with sql_db.db_connect(model.env.cr.dbname).cursor() as committed:
        committed.execute(
            SQL(
                "SELECT %s FROM %s WHERE %s = %s AND %s = ANY(%s)",
                SQL.identifier(key_field),
                SQL.identifier(table),
                SQL.identifier(scope_field),
                scope_id,
                SQL.identifier(key_field),
                keys,
            )
        )
        taken = {row[0] for row in committed.fetchall()}
    free = [key for key in keys if key not in taken]
    created = model.create([make_vals(key) for key in free]) if free else model.browse()
    return created, taken


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

    def _wave_write_binding(self, vals):
        """Write the sync's own fields of these records (Wave id, origin, last change,
        status), nothing else: the one path of every binding write of the sync."""
        return self.write(vals)

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
