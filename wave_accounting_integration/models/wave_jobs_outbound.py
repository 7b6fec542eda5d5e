# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Queue job entry points of the outbound sync (Odoo → Wave), on the connection.

Declared in ``data/queue_job_data.xml`` (``allow_commit``: the outbound ledger
is committed before and after each request to Wave). Each job checks that
export is on and the connection ready, then runs its service inside
:func:`~..services.job_guard.job_guard`, which commits the ledger before a retry.
"""

from odoo import _, models

from ..services.job_guard import job_guard


def run_export_job(connection, work):
    """Run ``work()`` for ``connection`` under the job guard (ledger committed on retry)."""
    connection.ensure_one()
    env = connection.env
    if not env["wave.outbound.runner"]._ready(connection):
        return _("Export to Wave is off or the connection is not ready: nothing done.")
    Service = env["wave.outbound.ledger.service"]
    with job_guard(connection, on_retry=lambda _error: Service._commit(connection)) as guard:
        return work()
    return guard.error and str(guard.error)


class WaveApi(models.Model):
    _inherit = "wave.api"

    def _job_export(self, model, ids):
        """Export records (invoices, entries, payments, customers, products) to Wave."""
        records = self.env[model].browse(ids)
        return run_export_job(self, lambda: self.env["wave.outbound.runner"]._export(self, records))

    def _job_reset_invoices(self, model, ids):
        """Invoices reset to draft or cancelled in Odoo: delete their Wave drafts."""
        records = self.env[model].browse(ids)
        return run_export_job(self, lambda: self.env["wave.invoice.saga"]._reset(self, records))

    def _job_undo_payments(self, model, ids):
        """Payments cancelled, reset or unreconciled in Odoo: delete them in Wave."""
        records = self.env[model].browse(ids)
        return run_export_job(self, lambda: self.env["wave.payment.exporter"]._undo(self, records))
