# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Wave invoices -> Odoo customer invoices (``out_invoice``).

Wave status -> Odoo state:

=========================================================  ==========================
Wave ``InvoiceStatus``                                     Odoo ``account.move``
=========================================================  ==========================
DRAFT                                                      skipped, or a draft when
                                                           ``import_draft_invoices``
SAVED, SENT, VIEWED, UNPAID, PARTIAL, PAID, OVERPAID,      posted (payments follow
OVERDUE                                                    from Wave's payments)
deleted at Wave (NOT_FOUND)                                draft: cancelled; posted:
                                                           reversed (credit note), or
                                                           review (``deletion_policy``)
=========================================================  ==========================

Lines keep Wave's quantity, unit price, taxes and account; Wave's invoice-level
discount (taxes are computed before it at Wave) becomes an untaxed negative
line on the mapped DISCOUNTS account. A foreign-currency invoice uses Wave's
``exchangeRate`` as its rate. The Odoo total must equal Wave's ``total`` to
the cent, otherwise the invoice goes to quarantine.
"""

import logging
from decimal import Decimal

from psycopg2.errors import UniqueViolation

from odoo import Command, _, api, fields, models
from odoo.tools import SQL, float_compare

from ..lib.dates import parse_wave_datetime as wave_datetime

_logger = logging.getLogger(__name__)

POSTED_STATUSES = {"SAVED", "SENT", "VIEWED", "UNPAID", "PARTIAL", "PAID", "OVERPAID", "OVERDUE"}
# account.move fields only the sync writes (see ``_wave_write_sync_state``).
SYNC_STATE_FIELDS = {"wave_synced_at", "wave_sync_snapshot", "wave_amount_paid"}
# Field groups of the per-field conflict policy.
CONFLICT_GROUPS = ("amounts", "taxes", "partner", "other")


class InvoiceRejected(Exception):
    """A Wave invoice that cannot be imported as is: goes to quarantine."""

    def __init__(self, reasons, suggested_fix=None):
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.suggested_fix = suggested_fix


class AccountMove(models.Model):
    _inherit = "account.move"

    wave_status = fields.Char(copy=False, readonly=True)
    wave_amount_paid = fields.Float(
        copy=False,
        readonly=True,
        digits=0,
        help="Amount paid at Wave when the payments were last synced.",
    )
    wave_synced_at = fields.Datetime(copy=False, readonly=True)
    wave_sync_snapshot = fields.Json(
        copy=False, help="Key fields as the sync left them: tells which fields Odoo changed since."
    )

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


def snapshot_from_vals(vals):
    """The snapshot (see ``account.move._wave_snapshot``) invoice ``vals`` would give."""
    lines = [cmd[2] for cmd in vals["invoice_line_ids"] if cmd[0] == Command.CREATE]
    return {
        "partner": vals["partner_id"],
        "amounts": [vals["currency_id"]]
        + [
            [
                line.get("product_id") or False,
                round(line["quantity"], 6),
                round(line["price_unit"], 6),
            ]
            for line in lines
        ],
        "taxes": [
            sorted(line["tax_ids"][0][2]) if line["tax_ids"][0][0] == Command.SET else []
            for line in lines
        ],
        "accounts": [line["account_id"] for line in lines],
        "other": [
            fields.Date.to_string(vals["invoice_date"]),
            fields.Date.to_string(vals["invoice_date_due"]),
            vals.get("ref") or False,
            vals.get("payment_reference") or False,
        ],
    }


class WaveApi(models.Model):
    _inherit = "wave.api"

    deletion_policy = fields.Selection(
        [("cancel", "Cancel or reverse in Odoo"), ("review", "Wait for review")],
        default="cancel",
        required=True,
        help="What happens to an imported invoice deleted in Wave.",
    )

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    def _import_invoice_payload(self, node, source=None):
        """Import one already-fetched Wave invoice node; returns its outcome
        ("created", "updated", "unchanged", "skipped", "quarantined", "conflict")."""
        self.ensure_one()
        results = self._import_invoice_nodes([node], source=source)
        return results.get(node.get("id"))

    def _import_invoice_nodes(self, nodes, source=None, job=None, payments=None, count=True):
        """Import a page of Wave invoice nodes; returns ``{wave_id: outcome}``.

        ``job`` gets the outcomes added to its counters unless ``count`` is
        false (historical chunks keep their own, idempotent counters).

        ``payments``: ``{wave_invoice_id: [payment nodes]}`` already fetched
        (by-id look-ups return them); otherwise they are fetched in one aliased
        request for the invoices whose paid amount changed.
        """
        self.ensure_one()
        self = self.with_company(self.company_id).with_context(wave_source=source)
        nodes = list({n["id"]: n for n in nodes if n and n.get("id")}.values())
        results = {}
        todo = []
        for node in nodes:
            if node.get("status") == "DRAFT" and not self.import_draft_invoices:
                results[node["id"]] = "skipped"
            else:
                todo.append(node)
        if not todo:
            if count:
                self._count(job, results)
            return results
        refs = self._resolve_invoice_refs(todo)
        Move = self.env["account.move"].with_context(active_test=False)
        existing = {
            m.wave_id: m
            for m in Move.search(
                [
                    ("wave_id", "in", [n["id"] for n in todo]),
                    ("company_id", "=", self.company_id.id),
                ]
            )
        }
        new_items, suspense = [], {}
        for node in todo:
            try:
                vals, on_suspense = self._prepare_invoice_vals(node, refs)
            except InvoiceRejected as error:
                self._quarantine_invoice(node, error.reasons, error.suggested_fix, job)
                results[node["id"]] = "quarantined"
                continue
            if on_suspense:
                suspense[node["id"]] = on_suspense
            move = existing.get(node["id"])
            if move:
                results[node["id"]] = self._update_invoice(move, node, vals, job)
            else:
                new_items.append((node, vals))
        if new_items:
            created = self._create_invoices(new_items, job)
            existing.update(created)
            for node, _vals in new_items:
                results[node["id"]] = "created" if node["id"] in created else "quarantined"
        done = [wid for wid, res in results.items() if res in ("created", "updated", "unchanged")]
        for wave_id, account_names in suspense.items():
            if results.get(wave_id) in ("created", "updated", "unchanged"):
                node = next(n for n in todo if n["id"] == wave_id)
                self._quarantine_suspense(node, account_names, existing[wave_id], job)
        self.env["wave.payment.importer"]._sync_invoice_payments(
            self, [n for n in todo if n["id"] in done], existing, payments=payments, job=job
        )
        self._resolve_quarantines("Invoice", [w for w in done if w not in suspense])
        if count:
            self._count(job, results)
        return results

    @api.model
    def _count(self, job, results):
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
    def _resolve_invoice_refs(self, nodes):
        items = [item for n in nodes for item in n.get("items") or []]
        tax_nodes = [
            t["salesTax"] for i in items for t in i.get("taxes") or [] if t.get("salesTax")
        ]
        Refs = self.env["wave.reference.importer"]
        taxes = Refs._resolve_taxes(self, tax_nodes)
        products = Refs._resolve_products(
            self, [i["product"] for i in items if i.get("product")], taxes=taxes
        )
        accounts = Refs._resolve_accounts(self, [i["account"] for i in items if i.get("account")])
        customers = self.env["wave.partner.matcher"]._match_contacts(
            self, "customer", [n["customer"] for n in nodes if n.get("customer")]
        )
        Map = self.env["wave.account.map"]
        discount_map = Map.search(
            [("connection_id", "=", self.id), ("wave_account_subtype", "=", "DISCOUNTS")],
            order="id",
            limit=1,
        )
        currencies = {
            c.name: c
            for c in self.env["res.currency"]
            .with_context(active_test=False)
            .search(
                [("name", "in", list({n["currency"]["code"] for n in nodes if n.get("currency")}))]
            )
        }
        journal = self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "sale"),
            ],
            limit=1,
        )
        return {
            "taxes": taxes,
            "products": products,
            "accounts": accounts,
            "customers": customers,
            "discount_map": discount_map,
            "currencies": currencies,
            "journal": journal,
            "suspense": self.env["account.account"],
        }

    # ------------------------------------------------------------------
    # Validation and values
    # ------------------------------------------------------------------
    def _prepare_invoice_vals(self, node, refs):
        """Validate a Wave invoice node; return ``(vals, suspense_account_names)``.

        Raises :class:`InvoiceRejected` with every reason found.
        """
        reasons, fixes = [], []
        for key in ("invoiceDate", "currency", "customer", "total"):
            if not node.get(key):
                reasons.append(_("Wave sent no %s.", key))
        if reasons:
            raise InvoiceRejected(reasons, _("Check the invoice in Wave, then replay."))
        company = self.company_id
        code = node["currency"]["code"]
        currency = refs["currencies"].get(code)
        if not currency or not currency.active:
            reasons.append(_("Currency %s is not active in Odoo.", code))
            fixes.append(_("Activate the currency %s (Accounting > Settings > Currencies).", code))
        mapping = refs["customers"].get(node["customer"]["id"])
        partner = mapping.partner_id if mapping else self.env["res.partner"]
        if not partner:
            reasons.append(
                _(
                    "Wave customer %(name)s is not matched to an Odoo contact (%(state)s).",
                    name=node["customer"].get("name"),
                    state=mapping.state if mapping else "unknown",
                )
            )
            fixes.append(_("Confirm the contact mapping in Wave > Mapping > Contacts."))
        journal = refs["journal"]
        lines, on_suspense = [], []
        for index, item in enumerate(node.get("items") or []):
            product = refs["products"].get((item.get("product") or {}).get("id"))
            account = refs["accounts"].get((item.get("account") or {}).get("id"))
            if not account:
                account = self.env["wave.reference.importer"]._suspense_account(self)
                on_suspense.append((item.get("account") or {}).get("name") or "?")
            tax_ids = []
            for tax in item.get("taxes") or []:
                odoo_tax = refs["taxes"].get((tax.get("salesTax") or {}).get("id"))
                if not odoo_tax:
                    reasons.append(
                        _(
                            "Line %(line)s: sales tax %(tax)s is not mapped.",
                            line=index + 1,
                            tax=(tax.get("salesTax") or {}).get("name"),
                        )
                    )
                else:
                    tax_ids.append(odoo_tax.id)
            lines.append(
                {
                    "product_id": product.id if product else False,
                    "name": item.get("description")
                    or (item.get("product") or {}).get("name")
                    or "/",
                    "quantity": float(item.get("quantity") or 0),
                    "price_unit": float(item.get("unitPrice") or 0),
                    "tax_ids": [Command.set(tax_ids)],
                    "account_id": account.id,
                }
            )
        if not lines:
            reasons.append(_("The invoice has no lines."))
        discount = Decimal((node.get("discountTotal") or {}).get("value") or "0")
        if discount:
            mapped = refs["discount_map"].account_id
            if not mapped:
                mapped = self.env["wave.reference.importer"]._suspense_account(self)
                on_suspense.append(refs["discount_map"].wave_account_name or _("Discounts"))
            names = [d.get("name") for d in node.get("discounts") or [] if d.get("name")]
            lines.append(
                {
                    "product_id": False,
                    "name": names[0] if names else _("Discount"),
                    "quantity": 1.0,
                    "price_unit": -float(discount),
                    "tax_ids": [Command.clear()],
                    "account_id": mapped.id,
                }
            )
        invoice_date = fields.Date.to_date(node["invoiceDate"])
        violated = company._get_violated_lock_dates(
            invoice_date,
            any(line["tax_ids"][0][2] for line in lines if line["tax_ids"][0][0] == Command.SET),
            journal,
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
        vals = {
            "move_type": "out_invoice",
            "company_id": company.id,
            "journal_id": journal.id,
            "partner_id": partner.id,
            "invoice_date": invoice_date,
            "invoice_date_due": fields.Date.to_date(node.get("dueDate")) or invoice_date,
            "invoice_payment_term_id": False,
            "currency_id": currency.id,
            "ref": node.get("poNumber") or False,
            "payment_reference": node.get("invoiceNumber") or False,
            "narration": node.get("memo") or False,
            "invoice_line_ids": [Command.create(line) for line in lines],
            "wave_id": node["id"],
            "wave_origin": "wave",
            "wave_status": node.get("status"),
            "wave_modified_at": wave_datetime(node.get("modifiedAt")),
        }
        if currency != company.currency_id:
            rate = Decimal(str(node.get("exchangeRate") or "0"))
            if rate <= 0:
                raise InvoiceRejected([_("Wave sent no exchange rate for %s.", code)])
            vals["invoice_currency_rate"] = float(1 / rate)
        return vals, on_suspense

    def _check_totals(self, move, node):
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
    def _create_invoices(self, items, job):
        """Create (and post) the invoices of ``items`` ``[(node, vals)]``.

        The page is tried as a batch; on any error every invoice is retried in
        its own savepoint so a bad one never rolls back the others.
        """
        try:
            with self.env.cr.savepoint():
                moves = self._create_moves([vals for _node, vals in items])
                bad = []
                for (node, _vals), move in zip(items, moves, strict=True):
                    if self._check_totals(move, node):
                        bad.append(node)
                if bad:
                    raise InvoiceRejected(["batch has total mismatches"])
                to_post = moves.filtered(lambda m: m.wave_status in POSTED_STATUSES)
                to_post.action_post()
        except UniqueViolation:
            raise  # the job guard retries: the other job's copy is found then
        except Exception as error:
            _logger.info("Wave invoice batch failed (%s); importing one by one.", error)
            return self._create_invoices_one_by_one(items, job)
        created = dict(zip([node["id"] for node, _vals in items], moves, strict=True))
        self._after_sync(moves, "create")
        return created

    def _create_moves(self, vals_list):
        """Create moves; Wave's exchange rate is set once the lines exist (it would be
        recomputed from Odoo's rates during the creation)."""
        rates = [vals.get("invoice_currency_rate") for vals in vals_list]
        moves = self.env["account.move"].create(
            [{k: v for k, v in vals.items() if k != "invoice_currency_rate"} for vals in vals_list]
        )
        for move, rate in zip(moves, rates, strict=True):
            if rate:
                move.invoice_currency_rate = rate
        return moves

    def _create_invoices_one_by_one(self, items, job):
        created = {}
        for node, vals in items:
            try:
                with self.env.cr.savepoint():
                    move = self._create_moves([vals])
                    reasons = self._check_totals(move, node)
                    if reasons:
                        raise InvoiceRejected(
                            reasons, _("Check the Wave sales taxes and their mapped rates.")
                        )
                    if move.wave_status in POSTED_STATUSES:
                        move.action_post()
            except InvoiceRejected as error:
                self._quarantine_invoice(node, error.reasons, error.suggested_fix, job)
                continue
            except UniqueViolation as error:
                raise self._concurrent_creation(error) from error
            except Exception as error:
                self._quarantine_invoice(node, [str(error)], None, job)
                continue
            created[node["id"]] = move
            self._after_sync(move, "create")
        return created

    def _after_sync(self, moves, action, values_before=None):
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
    # Updates and conflicts
    # ------------------------------------------------------------------
    def _update_invoice(self, move, node, vals, job):
        """Apply a changed Wave invoice to its Odoo move (see the conflict policies)."""
        if move.state == "cancel":
            return "skipped"
        try:
            with self.env.cr.savepoint():
                return self._apply_invoice_update(move, node, vals, job)
        except InvoiceRejected as error:
            self._quarantine_invoice(node, error.reasons, error.suggested_fix, job, move=move)
        except Exception as error:
            self._quarantine_invoice(node, [str(error)], None, job, move=move)
        return "quarantined"

    def _apply_invoice_update(self, move, node, vals, job):
        current = move._wave_snapshot()
        wanted = snapshot_from_vals(vals)
        stored = move.wave_sync_snapshot or current
        wave_groups = {g for g in CONFLICT_GROUPS if current[g] != wanted[g]}
        account_fix = current["accounts"] != wanted["accounts"] and len(current["accounts"]) == len(
            wanted["accounts"]
        )
        odoo_groups = {g for g in CONFLICT_GROUPS if stored.get(g) != current[g]}
        meta = {k: vals[k] for k in ("wave_status", "wave_modified_at")}
        was_draft_at_wave = move.state == "draft" and vals["wave_status"] in POSTED_STATUSES
        if not wave_groups and not account_fix and not was_draft_at_wave:
            move.write(meta)
            return "unchanged"
        decisions = self._decide_conflicts(move, wave_groups, odoo_groups)
        if "review" in decisions.values():
            self._quarantine_conflict(move, node, vals, decisions, job)
            return "conflict"
        apply = {g for g, d in decisions.items() if d == "wave"}
        kept = {g for g, d in decisions.items() if d == "odoo"}
        write_vals = dict(meta)
        if "partner" in apply:
            write_vals["partner_id"] = vals["partner_id"]
        if "other" in apply:
            for key in (
                "invoice_date",
                "invoice_date_due",
                "ref",
                "payment_reference",
                "narration",
            ):
                write_vals[key] = vals[key]
        if apply & {"amounts", "taxes"} or account_fix:
            write_vals["invoice_line_ids"] = self._line_commands(move, vals, apply)
            write_vals["currency_id"] = vals["currency_id"]
            if "invoice_currency_rate" in vals:
                write_vals["invoice_currency_rate"] = vals["invoice_currency_rate"]
        before = {
            "state": move.state,
            "amount_total": move.amount_total,
            "partner": move.partner_id.display_name,
        }
        was_posted = move.state == "posted"
        if was_posted and len(write_vals) > len(meta):
            move.button_draft()
        rate = write_vals.pop("invoice_currency_rate", None)
        move.write(write_vals)
        if rate:
            move.invoice_currency_rate = rate
        if not kept & {"amounts", "taxes"}:
            reasons = self._check_totals(move, node)
            if reasons:
                raise InvoiceRejected(reasons)
        if (was_posted or vals["wave_status"] in POSTED_STATUSES) and move.state == "draft":
            move.action_post()
        self._after_sync(move, "update", values_before=before)
        if kept:
            self.env["wave.audit.log"]._log_many(
                move,
                "conflict",
                {"kept_odoo": sorted(kept), "applied_wave": sorted(apply)},
            )
        return "updated"

    def _decide_conflicts(self, move, wave_groups, odoo_groups):
        """``{group: "wave" | "odoo" | "review"}`` for the groups Wave changed.

        Unposted moves take Wave's change unless Odoo changed the same group;
        posted moves always follow the group's policy. A replay from the
        quarantine (context ``wave_force_wave``) applies Wave's version.
        """
        decisions = {}
        for group in wave_groups:
            if self.env.context.get("wave_force_wave"):
                decisions[group] = "wave"
            elif move.state == "posted" or group in odoo_groups:
                decisions[group] = self[f"conflict_policy_{group}"]
            else:
                decisions[group] = "wave"
        return decisions

    def _line_commands(self, move, vals, apply):
        """Replace the invoice lines by Wave's; keep Odoo's taxes when they win."""
        new_lines = [cmd[2] for cmd in vals["invoice_line_ids"]]
        old_lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        if "taxes" not in apply:
            for index, line in enumerate(new_lines):
                if index < len(old_lines):
                    line["tax_ids"] = [Command.set(old_lines[index].tax_ids.ids)]
        if "amounts" not in apply and "taxes" not in apply and len(old_lines) == len(new_lines):
            # only the accounts change (a mapping was fixed)
            return [
                Command.update(old.id, {"account_id": new["account_id"]})
                for old, new in zip(old_lines, new_lines, strict=True)
            ]
        return [Command.delete(line.id) for line in move.invoice_line_ids] + [
            Command.create(line) for line in new_lines
        ]

    # ------------------------------------------------------------------
    # Deletions
    # ------------------------------------------------------------------
    def _apply_invoice_deletions(self, wave_ids, job=None):
        """Invoices deleted at Wave: cancel drafts, reverse posted ones, or review."""
        moves = self.env["account.move"].search(
            [
                ("wave_id", "in", list(wave_ids)),
                ("company_id", "=", self.company_id.id),
                ("state", "!=", "cancel"),
            ]
        )
        results = {}
        for move in moves:
            try:
                with self.env.cr.savepoint():
                    results[move.wave_id] = self._delete_invoice(move, job)
            except Exception as error:
                self._quarantine(
                    "Invoice",
                    move.wave_id,
                    {"id": move.wave_id, "deleted": True},
                    [_("Deleted in Wave but could not be cancelled: %s", error)],
                    job=job,
                    move=move,
                )
                results[move.wave_id] = "quarantined"
        return results

    def _delete_invoice(self, move, job):
        before = {"state": move.state, "amount_total": move.amount_total}
        if self.deletion_policy == "review":
            self._quarantine(
                "Invoice",
                move.wave_id,
                {"id": move.wave_id, "deleted": True},
                [_("The invoice was deleted in Wave.")],
                _("Cancel or reverse %s in Odoo, or discard this entry.", move.display_name),
                job=job,
                move=move,
            )
            return "conflict"
        if move.state == "draft":
            move.button_cancel()
        else:
            reversal = move._reverse_moves(
                [{"ref": _("Deleted in Wave: %s", move.name), "date": move.date}], cancel=True
            )
            self.env["wave.audit.log"]._log_many(reversal, "create", {"reverses": move.name})
        self.env["wave.audit.log"]._log_many(
            move, "cancel", {"state": move.state}, values_before=before
        )
        return "deleted"

    # ------------------------------------------------------------------
    # Quarantine
    # ------------------------------------------------------------------
    def _quarantine_invoice(self, node, reasons, suggested_fix, job, move=None):
        number = node.get("invoiceNumber") or node.get("id")
        return self._quarantine(
            "Invoice",
            node.get("id"),
            node,
            reasons,
            suggested_fix,
            job=job,
            move=move,
            label=_("Invoice %s", number),
        )

    def _quarantine_suspense(self, node, account_names, move, job):
        names = ", ".join(sorted(set(account_names)))
        return self._quarantine(
            "Invoice",
            node["id"],
            node,
            [_("Booked to the suspense account: Wave account(s) %s not mapped.", names)],
            _("Map the Wave account(s) in Wave > Mapping > Accounts, then replay."),
            job=job,
            move=move,
            label=_("Invoice %s", node.get("invoiceNumber")),
        )

    def _quarantine_conflict(self, move, node, vals, decisions, job):
        odoo_version = {
            "name": move.name,
            "state": move.state,
            "amount_total": move.amount_total,
            "amount_tax": move.amount_tax,
            "partner": move.partner_id.display_name,
            "snapshot": move._wave_snapshot(),
        }
        groups = sorted(g for g, d in decisions.items() if d == "review")
        self._quarantine(
            "Invoice",
            node["id"],
            {"wave": node, "odoo": odoo_version},
            [
                _(
                    "Changed in Wave while posted or edited in Odoo: %s (policy: review).",
                    ", ".join(groups),
                )
            ],
            _("Compare both versions; replay applies Wave's version, discard keeps Odoo's."),
            job=job,
            move=move,
            label=_("Conflict on %s", move.name or node.get("invoiceNumber")),
        )
        self.env["wave.audit.log"]._log_many(
            move,
            "conflict",
            {"review": groups, "wave_total": (node.get("total") or {}).get("value")},
        )

    def _quarantine(
        self,
        record_type,
        wave_id,
        payload,
        reasons,
        suggested_fix=None,
        job=None,
        move=None,
        label=None,
    ):
        """Create (or bump) the open quarantine entry of one Wave record."""
        return self.env["wave.quarantine"]._open_or_bump(
            self,
            "inbound",
            record_type,
            reasons,
            wave_id=wave_id,
            record=move or None,
            payload=payload,
            suggested_fix=suggested_fix,
            name=label,
            sync_job=job,
        )

    def _resolve_quarantines(self, record_type, wave_ids):
        self.env["wave.quarantine"]._resolve_open(
            self, "inbound", record_type=record_type, wave_ids=wave_ids
        )

    @api.model
    def _amounts_equal(self, currency, left, right):
        return not float_compare(left, right, precision_rounding=currency.rounding)
