# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoices -> Odoo customer invoices (``out_invoice``): validation and creation.

Wave status -> Odoo state:

=========================================================  ==========================
Wave ``InvoiceStatus``                                     Odoo ``account.move``
=========================================================  ==========================
DRAFT                                                      skipped, or a draft when
                                                           ``import_draft_invoices``
SAVED, SENT, VIEWED, UNPAID, PARTIAL, PAID, OVERPAID,      posted (payments follow
OVERDUE                                                    from Wave's payments)
deleted at Wave (NOT_FOUND)                                see ``wave.invoice.updater``
=========================================================  ==========================

A page of Wave invoice nodes is resolved (taxes, products, accounts, customers:
one query per kind), each node is validated (reasons are collected, then the
invoice goes to quarantine), mapped (``mappers/invoice_inbound.py``) and
written: new invoices with one ``create()`` and one ``action_post()`` per page,
known ones through ``wave.invoice.updater``. The Odoo total must equal Wave's
``total`` to the cent, otherwise the invoice goes to quarantine.
"""

import logging

from odoo import _, api, fields, models

from ..graphql.inbound import INVOICE_WITH_PAYMENTS_SELECTION
from ..lib.text import by_count
from ..mappers.invoice_inbound import (
    POSTED_STATUSES,
    discount_amount,
    invoice_currency_rate,
    invoice_vals,
    item_tax_ids,
    source_estimate_id,
    suspense_account_names,
)
from .job_guard import CONCURRENCY_ERRORS

_logger = logging.getLogger(__name__)

# Invoices fetched by id in one aliased request.
BY_ID_CHUNK = 50
# Outcomes of an invoice that reached Odoo as Wave has it.
SYNCED = ("created", "updated", "unchanged")


class InvoiceRejected(Exception):
    """A Wave invoice that cannot be imported as is: goes to quarantine."""

    def __init__(self, reasons, suggested_fix=None):
        super().__init__("; ".join(str(reason) for reason in reasons))
        self.reasons = reasons
        self.suggested_fix = suggested_fix


class WaveInvoiceImporter(models.AbstractModel):
    _name = "wave.invoice.importer"
    _description = "Wave Import of Invoices"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _import_node(self, connection, node, source=None):
        """Import one already-fetched Wave invoice node; returns its outcome
        ("created", "updated", "unchanged", "skipped", "quarantined", "conflict")."""
        return self._import_nodes(connection, [node], source=source).get(node.get("id"))

    @api.model
    def _import_by_ids(self, connection, wave_invoice_ids, source=None):
        """Import or update these Wave invoices (and their payments) now.

        One aliased request per ``BY_ID_CHUNK`` invoices fetches them with their
        payments; invoices Wave no longer has (NOT_FOUND) follow the deletion
        policy. Returns ``{wave_id: outcome}``.
        """
        wave_invoice_ids = list(dict.fromkeys(wave_invoice_ids or []))
        if not wave_invoice_ids:
            return {}
        priority = "webhook" if source == "webhook" else "interactive"
        client = connection._get_client(priority=priority)
        results = {}
        for start in range(0, len(wave_invoice_ids), BY_ID_CHUNK):
            found = client.lookup_many(
                connection.business_id,
                "invoice",
                wave_invoice_ids[start : start + BY_ID_CHUNK],
                INVOICE_WITH_PAYMENTS_SELECTION,
                chunk_size=BY_ID_CHUNK,
            )
            nodes = [node for node in found.values() if node]
            payments = {node["id"]: node.get("payments") or [] for node in nodes}
            results.update(self._import_nodes(connection, nodes, source=source, payments=payments))
            deleted = [wave_id for wave_id, node in found.items() if not node]
            if deleted:
                results.update(dict.fromkeys(deleted, "not_found"))
                Updater = self.env["wave.invoice.updater"]
                results.update(Updater._apply_deletions(connection, deleted))
        return results

    @api.model
    def _import_nodes(
        self, connection, nodes, source=None, job=None, payments=None, count=True, next_page=None
    ):
        """Import a page of Wave invoice nodes; returns ``{wave_id: outcome}``.

        ``job`` gets the outcomes added to its counters unless ``count`` is
        false (historical chunks keep their own, idempotent counters).

        ``payments``: ``{wave_invoice_id: [payment nodes]}`` already fetched
        (by-id look-ups return them); otherwise they are fetched in one aliased
        request for the invoices whose paid amount changed, which also reads
        ``next_page`` when given (``wave.payment.importer._fetch_payments``).
        """
        connection = connection.with_company(connection.company_id).with_context(wave_source=source)
        importer = self.with_env(connection.env)
        nodes = list({n["id"]: n for n in nodes if n and n.get("id")}.values())
        results, todo = {}, []
        for node in nodes:
            if node.get("status") == "DRAFT" and not connection.import_draft_invoices:
                results[node["id"]] = "skipped"
            else:
                todo.append(node)
        if todo:
            results.update(importer._import_page(connection, todo, job, payments, next_page))
        if count:
            importer._count_outcomes(connection, job, results)
        return results

    @api.model
    def _import_page(self, connection, nodes, job, payments, next_page=None):
        """Validate, create or update ``nodes``, then sync their payments."""
        refs = self._resolve_refs(connection, nodes)
        existing = {
            m.wave_id: m
            for m in self.env["account.move"]
            .with_context(active_test=False)
            .search(
                [
                    ("wave_id", "in", [n["id"] for n in nodes]),
                    ("company_id", "=", connection.company_id.id),
                ]
            )
        }
        # Created in Wave by an export whose answer is not committed yet: the export binds them.
        exported = self.env["wave.outbound.ledger.service"]._left_to_export(
            connection,
            "invoice",
            [n for n in nodes if n["id"] not in existing],
            "invoiceNumber",
            source_of=source_estimate_id,
        )
        Updater = self.env["wave.invoice.updater"]
        results, new_items, suspense = dict.fromkeys(exported, "skipped"), [], {}
        for node in nodes:
            if node["id"] in exported:
                continue
            try:
                vals, on_suspense = self._prepare(connection, node, refs)
            except InvoiceRejected as error:
                self._quarantine_invoice(connection, node, error.reasons, error.suggested_fix, job)
                results[node["id"]] = "quarantined"
                continue
            if on_suspense:
                suspense[node["id"]] = on_suspense
            move = existing.get(node["id"])
            if move:
                results[node["id"]] = Updater._update_invoice(connection, move, node, vals, job)
            else:
                new_items.append((node, vals))
        if new_items:
            created = self._create_invoices(connection, new_items, job)
            existing.update(created)
            for node, _vals in new_items:
                results[node["id"]] = "created" if node["id"] in created else "quarantined"
        done = [node for node in nodes if results.get(node["id"]) in SYNCED]
        for node in done:
            if node["id"] in suspense:
                self._quarantine_suspense(
                    connection, node, suspense[node["id"]], existing[node["id"]], job
                )
        self.env["wave.payment.importer"]._sync_invoice_payments(
            connection, done, existing, payments=payments, job=job, next_page=next_page
        )
        self.env["wave.estimate.importer"]._note_invoice_sources(connection, done, existing)
        self.env["wave.quarantine"]._resolve_open(
            connection,
            "inbound",
            record_type="Invoice",
            wave_ids=[node["id"] for node in done if node["id"] not in suspense],
        )
        return results

    @api.model
    def _count_outcomes(self, connection, job, results):
        """Add the outcomes ``{wave_id: outcome}`` of a page to the counters of ``job``."""
        if not job:
            return
        values = list(results.values())
        job.write(
            {
                "records_done": job.records_done + len(values),
                "records_created": job.records_created + values.count("created"),
                "records_updated": job.records_updated + values.count("updated"),
                "records_skipped": job.records_skipped
                + values.count("skipped")
                + values.count("unchanged"),
                "records_failed": job.records_failed
                + values.count("quarantined")
                + values.count("conflict"),
            }
        )

    # ------------------------------------------------------------------
    # Reference data of a page: one query per kind
    # ------------------------------------------------------------------
    @api.model
    def _resolve_refs(self, connection, nodes):
        """The Odoo records the Wave ids of ``nodes`` stand for (see the mapper's ``refs``)."""
        Refs = self.env["wave.reference.importer"]
        items = [item for n in nodes for item in n.get("items") or []]
        tax_nodes = [
            t["salesTax"] for i in items for t in i.get("taxes") or [] if t.get("salesTax")
        ]
        taxes = Refs._resolve_taxes(connection, tax_nodes)
        product_nodes = [i["product"] for i in items if i.get("product")]
        codes = list({n["currency"]["code"] for n in nodes if n.get("currency")})
        currencies = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "in", codes)])
        )
        if connection.currency_policy == "activate":
            self.env["wave.books.setup"]._activate_currencies(connection, currencies)
        Journal = self.env["account.journal"]
        return {
            "taxes": taxes,
            "products": Refs._resolve_products(connection, product_nodes, taxes=taxes),
            "accounts": Refs._resolve_accounts(
                connection, [i["account"] for i in items if i.get("account")]
            ),
            "customers": self.env["wave.partner.matcher"]._match_contacts(
                connection, "customer", [n["customer"] for n in nodes if n.get("customer")]
            ),
            "discount_map": self.env["wave.account.map"].search(
                [
                    ("connection_id", "=", connection.id),
                    ("wave_account_subtype", "=", "DISCOUNTS"),
                ],
                order="id",
                limit=1,
            ),
            "currencies": {c.name: c for c in currencies},
            "journal": Journal.search(
                [*Journal._check_company_domain(connection.company_id), ("type", "=", "sale")],
                limit=1,
            ),
            # made on demand (see ``_prepare``): most pages have every account mapped
            "suspense": self.env["account.account"],
        }

    # ------------------------------------------------------------------
    # Validation, then values
    # ------------------------------------------------------------------
    @api.model
    def _prepare(self, connection, node, refs):
        """Validate a Wave invoice node; return ``(vals, suspense_account_names)``.

        Raises :class:`InvoiceRejected` with every reason found.
        """
        self._validate(connection, node, refs)
        on_suspense = suspense_account_names(node, refs, _("Discounts"))
        if on_suspense and not refs["suspense"]:
            refs["suspense"] = self.env["wave.reference.importer"]._suspense_account(connection)
        vals = invoice_vals(node, refs, connection.company_id, _("Discount"))
        return vals, on_suspense

    @api.model
    def _validate(self, connection, node, refs):
        """Raise :class:`InvoiceRejected` with every reason ``node`` cannot be imported."""
        missing = [
            key for key in ("invoiceDate", "currency", "customer", "total") if not node.get(key)
        ]
        if missing:
            raise InvoiceRejected(
                [_("Wave sent no %s.", key) for key in missing],
                _("Check the invoice in Wave, then replay."),
            )
        reasons, fixes = self._reference_reasons(node, refs)
        rounded = self.env["wave.books.setup"]._line_rounding_reasons(node)
        if rounded:
            reasons += rounded
            fixes.append(
                _(
                    "Raise the decimal accuracy (Settings > Technical > Decimal Accuracy, or the "
                    "fix of the go-live checklist's precision check), then replay."
                )
            )
        if not node.get("items") and not discount_amount(node):
            reasons.append(_("The invoice has no lines."))
        has_taxes = any(
            refs["taxes"].get(t) for i in node.get("items") or [] for t in item_tax_ids(i)
        )
        violated = connection.company_id._get_violated_lock_dates(
            fields.Date.to_date(node["invoiceDate"]), has_taxes, refs["journal"]
        )
        if violated:
            reasons.append(
                _(
                    "The period of %(date)s is locked in Odoo (lock date %(lock)s).",
                    date=node["invoiceDate"],
                    lock=violated[-1][0],
                )
            )
            fixes.append(_("Reopen the period or move the invoice date, then replay."))
        if reasons:
            raise InvoiceRejected(reasons, "\n".join(fixes) or None)
        currency = refs["currencies"][node["currency"]["code"]]
        if currency != connection.company_id.currency_id and not invoice_currency_rate(node):
            raise InvoiceRejected([_("Wave sent no exchange rate for %s.", currency.name)])

    @api.model
    def _reference_reasons(self, node, refs):
        """``(reasons, fixes)``: the currency, customer and taxes Odoo lacks for ``node``."""
        reasons, fixes = [], []
        code = node["currency"]["code"]
        currency = refs["currencies"].get(code)
        if not currency:
            reasons.append(_("Odoo has no currency %s.", code))
            fixes.append(_("Create the currency %s in Odoo, then replay.", code))
        elif not currency.active:
            reasons.append(_("Currency %s is not active in Odoo.", code))
            fixes.append(
                _(
                    'Press "Activate the currency and replay" (or activate %s in '
                    "[[menu:account.menu_action_currency_form]], then replay).",
                    code,
                )
            )
        mapping = refs["customers"].get(node["customer"]["id"])
        if not (mapping and mapping.partner_id):
            reasons.append(
                _(
                    "Wave customer %(name)s is not matched to an Odoo contact (%(state)s).",
                    name=node["customer"].get("name"),
                    state=mapping.state if mapping else "unknown",
                )
            )
            if mapping and mapping.review_reason:
                reasons.append(mapping.review_reason)
            fixes.append(
                _(
                    'Press "Choose or create the contact" (or confirm it in '
                    "[[menu:wave_accounting_integration.menu_wave_partner_map]]), then replay."
                )
            )
        for index, item in enumerate(node.get("items") or []):
            for tax in item.get("taxes") or []:
                sales_tax = tax.get("salesTax") or {}
                if not refs["taxes"].get(sales_tax.get("id")):
                    reasons.append(
                        _(
                            "Line %(line)s: sales tax %(tax)s is not mapped.",
                            line=index + 1,
                            tax=sales_tax.get("name"),
                        )
                    )
        return reasons, fixes

    @api.model
    def _check_totals(self, connection, move, node):
        """Reasons why ``move`` does not match Wave's totals (empty when it does)."""
        wave_total = float((node.get("total") or {}).get("value") or 0)
        if move.currency_id.compare_amounts(move.amount_total, wave_total):
            return [
                _(
                    "Odoo total %(odoo)s differs from Wave total %(wave)s.",
                    odoo=move.amount_total,
                    wave=wave_total,
                )
            ]
        return []

    # ------------------------------------------------------------------
    # Creation: one create() and one action_post() per page
    # ------------------------------------------------------------------
    @api.model
    def _create_invoices(self, connection, items, job):
        """Create (and post) the invoices of ``items`` ``[(node, vals)]``.

        The page is tried as a batch; on any error every invoice is retried in
        its own savepoint so a bad one never rolls back the others.
        """
        try:
            with self.env.cr.savepoint():
                moves = self._create_moves([vals for _node, vals in items])
                for (node, _vals), move in zip(items, moves, strict=True):
                    if self._check_totals(connection, move, node):
                        raise InvoiceRejected(["batch has total mismatches"])
                moves.filtered(lambda m: m.wave_status in POSTED_STATUSES).action_post()
        except CONCURRENCY_ERRORS:
            raise  # the job guard retries: the other job's copy is found then
        except Exception as error:
            _logger.info("Wave invoice batch failed (%s); importing one by one.", error)
            return self._create_one_by_one(connection, items, job)
        self._after_sync(connection, moves, "create")
        return dict(zip([node["id"] for node, _vals in items], moves, strict=True))

    @api.model
    def _create_moves(self, vals_list):
        """Create moves; Wave's exchange rate is set once the lines exist (it would be
        recomputed from Odoo's rates during the creation).

        Each invoice has its own rate, so each needs its own ``write``; alone, every
        one of them would re-derive its invoice's lines and check its balance. They
        are written inside one line synchronisation and one balance check over the
        whole batch instead, the way ``account.move.create`` and ``write`` wrap their
        own work: the nested writes see the synchronisation running and leave it to
        the outer one, which updates the lines of every invoice at once.
        """
        rates = [vals.get("invoice_currency_rate") for vals in vals_list]
        moves = self.env["account.move"].create(
            [{k: v for k, v in vals.items() if k != "invoice_currency_rate"} for vals in vals_list]
        )
        foreign = [(move, rate) for move, rate in zip(moves, rates, strict=True) if rate]
        if foreign:
            rated = moves.browse([move.id for move, _rate in foreign])
            container = {"records": rated}
            with rated._check_balanced(container), rated._sync_dynamic_lines(container):
                for move, rate in foreign:
                    move.invoice_currency_rate = rate
        return moves

    @api.model
    def _create_one_by_one(self, connection, items, job):
        created = {}
        for node, vals in items:
            try:
                with self.env.cr.savepoint():
                    move = self._create_moves([vals])
                    reasons = self._check_totals(connection, move, node)
                    if reasons:
                        raise InvoiceRejected(
                            reasons, _("Check the Wave sales taxes and their mapped rates.")
                        )
                    if move.wave_status in POSTED_STATUSES:
                        move.action_post()
            except InvoiceRejected as error:
                self._quarantine_invoice(connection, node, error.reasons, error.suggested_fix, job)
                continue
            except CONCURRENCY_ERRORS:
                raise  # the job guard retries: the other job's copy is found then
            except Exception as error:
                self._quarantine_invoice(connection, node, [str(error)], None, job)
                continue
            created[node["id"]] = move
            self._after_sync(connection, move, "create")
        return created

    @api.model
    def _after_sync(self, connection, moves, action, values_before=None):
        """Snapshot, sync time and audit line of moves the sync just wrote."""
        now = fields.Datetime.now()
        moves._wave_write_sync_state(
            {
                move.id: {"wave_synced_at": now, "wave_sync_snapshot": move._wave_snapshot()}
                for move in moves
            }
        )
        self.env["wave.audit.log"]._log_many(
            moves,
            action,
            lambda m: {
                "state": m.state,
                "amount_total": m.amount_total,
                "partner": m.partner_id.display_name,
                "wave_status": m.wave_status,
            },
            values_before=values_before,
        )

    # ------------------------------------------------------------------
    # Quarantine
    # ------------------------------------------------------------------
    @api.model
    def _quarantine_invoice(self, connection, node, reasons, suggested_fix, job, move=None):
        number = node.get("invoiceNumber") or node.get("id")
        code = (node.get("currency") or {}).get("code")
        currency = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)])
            if code
            else self.env["res.currency"]
        )
        return self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "Invoice",
            reasons,
            wave_id=node.get("id"),
            record=move or None,
            payload=node,
            suggested_fix=suggested_fix,
            name=_("Invoice %s", number),
            sync_job=job,
            fix_currency=currency if currency and not currency.active else None,
        )

    @api.model
    def _quarantine_suspense(self, connection, node, account_names, move, job):
        names = ", ".join(sorted(set(account_names)))
        return self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "Invoice",
            [
                by_count(
                    len(set(account_names)),
                    _("Booked to the suspense account: Wave account %(names)s not mapped."),
                    _("Booked to the suspense account: Wave accounts %(names)s not mapped."),
                    names=names,
                )
            ],
            wave_id=node["id"],
            record=move or None,
            payload=node,
            suggested_fix=_(
                'Press "Map the accounts" (or map them in '
                "[[menu:wave_accounting_integration.menu_wave_account_map]]), then replay."
            ),
            name=_("Invoice %s", node.get("invoiceNumber")),
            sync_job=job,
        )
