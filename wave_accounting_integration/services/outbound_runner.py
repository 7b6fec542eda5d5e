# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the outbound sync (Odoo → Wave) exports, and when: enqueueing and dispatch.

Posting hooks and the daily catch-up enqueue export jobs (one per chunk of
records, identity keys avoid duplicates); a job hands its records to
:meth:`WaveOutboundRunner._export`, which sends each kind to its exporter.

Loop prevention: records imported from Wave (``wave_origin == 'wave'``) are
never sent; exported ones get ``wave_origin = 'odoo'`` and their ``wave_id``
so the inbound poll matches them by id instead of importing them again. Nothing
is enqueued while the sync itself writes (context ``wave_no_outbound`` or
``wave_source``).
"""

from odoo import _, api, fields, models

EXPORT_JOB = "_job_export"


class WaveOutboundRunner(models.AbstractModel):
    _name = "wave.outbound.runner"
    _description = "Wave Export Runner"

    # ------------------------------------------------------------------
    # Enqueueing
    # ------------------------------------------------------------------
    @api.model
    def _ready(self, connection):
        connection.ensure_one()
        return connection.sync_outbound and connection._is_ready()

    @api.model
    def _enqueue(self, connection, model, ids, method=EXPORT_JOB, priority=20):
        """One export job per chunk of records (identity key: no duplicate pending jobs)."""
        from odoo.addons.queue_job.job import identity_exact

        connection.ensure_one()
        ids = sorted(set(ids))
        size = max(connection.outbound_batch_size, 1)
        jobs = []
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            # company_id (context): the job is counted for the connection's company.
            delayed = connection.with_context(company_id=connection.company_id.id).with_delay(
                priority=priority,
                identity_key=identity_exact,
                channel="root.wave.outbound",
                description=_("Wave export: %(model)s %(ids)s", model=model, ids=chunk),
            )
            jobs.append(getattr(delayed, method)(model, chunk))
        return jobs

    @api.model
    def _allowed(self):
        """False while the sync itself writes (imports, bindings)."""
        return not (self.env.context.get("wave_no_outbound") or self.env.context.get("wave_source"))

    @api.model
    def _connections_for(self, companies):
        """``{company: connection}`` of the companies whose connection exports."""
        result = {}
        for company in companies:
            # sudo: any user who posts a document enqueues its export.
            connection = self.env["wave.api"].sudo()._for_company(company)
            if connection and self._ready(connection):
                result[company] = connection
        return result

    @api.model
    def _enqueue_records(self, records, method=EXPORT_JOB, only_on_post=False, company_field=None):
        """Enqueue ``method`` for ``records``, grouped by the connection of their company."""
        if not records or not self._allowed():
            return
        company_field = company_field or "company_id"
        connections = self._connections_for(records.mapped(company_field))
        for company, connection in connections.items():
            if only_on_post and not connection.export_on_post:
                continue
            todo = records.filtered(lambda r, c=company: r[company_field] == c)
            if todo:
                self._enqueue(connection, todo._name, todo.ids, method=method)

    @api.model
    def _enqueue_estimates(self, orders):
        """Quotations sent or confirmed (or changed once in Wave): enqueue their export
        where the company's setting *Send quotations to Wave as estimates* asks for it."""
        orders = orders.filtered(
            lambda o: (
                o.wave_origin != "wave"
                and (
                    o.state in ("sent", "sale")
                    # cancelled in Odoo (not by Wave): its Wave estimate is deleted
                    or (o.state == "cancel" and o.wave_id and not o.wave_cancel_reason)
                )
            )
        )
        if not orders or not self._allowed():
            return
        for company, connection in self._connections_for(orders.company_id).items():
            mine = orders.filtered(lambda o, c=company: o.company_id == c)
            todo = self.env["wave.estimate.exporter"]._due(connection, mine)
            todo |= mine.filtered(lambda o: o.state == "cancel")
            if todo:
                self._enqueue(connection, todo._name, todo.ids)

    @api.model
    def _enqueue_changed_partners(self, partners):
        """Exported customers changed: patch them in Wave (connection of the current company)."""
        exported = partners.filtered(lambda p: p.wave_origin == "odoo" and p.wave_id)
        if not exported or not self._allowed():
            return
        for connection in self._connections_for(self.env.company).values():
            self._enqueue(connection, exported._name, exported.ids)

    @api.model
    def _enqueue_changed_products(self, products):
        """Exported products changed: patch (or archive) them in Wave."""
        exported = products.filtered(lambda p: p.wave_origin == "odoo" and p.wave_id)
        if exported:
            self._enqueue_records(exported, company_field="wave_company_id")

    # ------------------------------------------------------------------
    # Daily catch-up
    # ------------------------------------------------------------------
    @api.model
    def _enqueue_catchup(self, connection):
        """Enqueue the export of everything pending or failed-but-retryable (daily cron)."""
        for model, ids in self._catchup_targets(connection).items():
            if ids:
                self._enqueue(connection, model, ids)

    @api.model
    def _catchup_targets(self, connection):
        """``{model: ids}`` still to export for this connection."""
        connection.ensure_one()
        Ledger = self.env["wave.outbound.ledger"]
        done = Ledger.search(
            [
                ("connection_id", "=", connection.id),
                ("state", "in", ("confirmed", "outcome_unknown", "failed", "sent")),
            ]
        )
        done_keys = {(e.res_model, e.res_id) for e in done}
        moves, payments = self._catchup_documents(connection)
        unfinished = done.filtered(
            lambda e: (
                e.kind == "invoice"
                and e.state == "confirmed"
                and e.saga_step in ("created", "approved")
            )
        )
        moves = moves.filtered(lambda m: (m._name, m.id) not in done_keys)
        # Failed invoices fixed since their failure are exported again (their
        # quarantine is resolved when they get through).
        fixed = set(self.env["wave.invoice.exporter"]._fixed_since_failure(done).mapped("res_id"))
        move_ids = set(moves.ids) | set(unfinished.mapped("res_id")) | fixed
        payment_ids = {p.id for p in payments if (p._name, p.id) not in done_keys}
        # Pending rows whose transient failures have not yet reached the limit.
        retry = Ledger.search(
            [
                ("connection_id", "=", connection.id),
                ("state", "=", "pending"),
                ("attempts", "<", max(connection.outbound_retry_limit, 1)),
            ]
        )
        # Invoices and estimates whose create answer was lost: Wave can be searched by
        # their number, so their next export looks them up (never creates them twice);
        # no person needs to confirm them.
        retry |= done.filtered(
            lambda e: e.kind in ("invoice", "estimate") and e.state in ("sent", "outcome_unknown")
        )
        move_ids |= {e.res_id for e in retry if e.res_model == "account.move"}
        order_ids = {e.res_id for e in retry if e.res_model == "sale.order"}
        payment_ids |= {e.res_id for e in retry if e.res_model == "account.payment"}
        # Quarantined records wait for the accountant's fix and replay.
        blocked = self.env["wave.quarantine"].search(
            [
                ("connection_id", "=", connection.id),
                ("direction", "=", "outbound"),
                ("state", "=", "open"),
                ("res_model", "in", ("account.move", "account.payment", "sale.order")),
            ]
        )
        blocked_keys = {(q.res_model, q.res_id) for q in blocked}
        return {
            "account.move": sorted(
                i for i in move_ids if i in fixed or ("account.move", i) not in blocked_keys
            ),
            "account.payment": sorted(
                i for i in payment_ids if ("account.payment", i) not in blocked_keys
            ),
            "sale.order": sorted(i for i in order_ids if ("sale.order", i) not in blocked_keys),
        }

    @api.model
    def _catchup_documents(self, connection):
        """Posted invoices and entries, and payments, dated from the start date on."""
        company = connection.company_id
        start = connection.outbound_start_date or fields.Date.today()
        base = [
            ("company_id", "=", company.id),
            ("state", "=", "posted"),
            ("date", ">=", start),
            ("wave_origin", "!=", "wave"),
        ]
        Move = self.env["account.move"]
        invoices = Move.search([*base, ("move_type", "=", "out_invoice"), ("wave_id", "=", False)])
        entries = Move.search(
            [
                *base,
                ("move_type", "=", "entry"),
                ("origin_payment_id", "=", False),
                ("statement_line_id", "=", False),
            ]
        )
        payments = self.env["account.payment"].search(
            [
                ("company_id", "=", company.id),
                ("state", "in", ("in_process", "paid")),
                ("date", ">=", start),
                ("wave_origin", "!=", "wave"),
            ]
        )
        return invoices | entries, payments

    # ------------------------------------------------------------------
    # Dispatch
    # ------------------------------------------------------------------
    @api.model
    def _export(self, connection, records):
        """Export ``records`` now (each kind to its exporter)."""
        connection.ensure_one()
        records = records.exists()
        if not records:
            return True
        if records._name == "account.move":
            invoices = records.filtered(lambda m: m.move_type in ("out_invoice", "out_refund"))
            if invoices:
                self.env["wave.invoice.exporter"]._export(connection, invoices)
            others = records - invoices
            if others:
                self.env["wave.money.exporter"]._export_entries(connection, others)
        elif records._name == "sale.order":
            self.env["wave.estimate.exporter"]._export(connection, records)
        elif records._name == "account.payment":
            self.env["wave.payment.exporter"]._export(connection, records)
        elif records._name == "res.partner":
            self.env["wave.outbound.dependencies"]._sync_customers(connection, records)
        elif records._name == "product.product":
            self.env["wave.outbound.dependencies"]._sync_products(connection, records)
        return True
