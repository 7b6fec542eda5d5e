# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Changes at Wave to invoices Odoo already imported: updates, conflicts, deletions.

An update compares three versions of the invoice's key fields (see
``account.move._wave_snapshot``): what the sync last wrote, what Odoo has now and
what Wave sends. Per field group (``CONFLICT_GROUPS``) a change only Wave made
is applied, posted invoices included (reset to draft, amended, posted again, its
payments reconciled again, audited), unless the period is locked (then it waits
in quarantine with that reason). A group changed on both sides is a true conflict
and follows the connection's conflict policy of that group (Wave wins, Odoo wins,
or review: the invoice waits in quarantine with both versions side by side, and
"Take Wave's" / "Keep Odoo's" settle it).

An invoice deleted at Wave is cancelled (draft) or reversed by a credit note
(posted), or waits for review (``deletion_policy``).
"""

from odoo import _, api, fields, models

from ..lib.dates import parse_wave_datetime
from ..lib.wave_versions import is_newer_wave_version
from ..mappers.invoice_inbound import (
    CONFLICT_GROUPS,
    OTHER_GROUP_FIELDS,
    POSTED_STATUSES,
    line_update_commands,
    snapshot_from_vals,
    wave_version_key,
)
from .invoice_importer import InvoiceRejected
from .job_guard import CONCURRENCY_ERRORS


class WaveInvoiceUpdater(models.AbstractModel):
    _name = "wave.invoice.updater"
    _description = "Wave Updates and Deletions of Imported Invoices"

    # ------------------------------------------------------------------
    # Updates and conflicts
    # ------------------------------------------------------------------
    @api.model
    def _update_invoice(self, connection, move, node, vals, job):
        """Apply a changed Wave invoice to its Odoo move (see the conflict policies)."""
        if move.state == "cancel":
            return "skipped"
        Importer = self.env["wave.invoice.importer"]
        try:
            with self.env.cr.savepoint():
                return self._apply_update(connection, move, node, vals, job)
        except InvoiceRejected as error:
            Importer._quarantine_invoice(
                connection, node, error.reasons, error.suggested_fix, job, move=move
            )
        except CONCURRENCY_ERRORS:
            raise  # another transaction at the same time: the job guard runs the job again
        except Exception as error:
            Importer._quarantine_invoice(connection, node, [str(error)], None, job, move=move)
        return "quarantined"

    @api.model
    def _apply_update(self, connection, move, node, vals, job):
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
            move._wave_write_binding(meta)
            return "unchanged"
        kept_until = move.wave_kept_odoo_until
        modified = parse_wave_datetime(node.get("modifiedAt"))
        if (
            kept_until
            and modified
            and not self.env.context.get("wave_force_wave")
            # same second as the declined version: its content decides (lib/wave_versions)
            and not is_newer_wave_version(
                modified,
                kept_until,
                lambda: self._declined_version(move) not in (None, wave_version_key(node)),
            )
        ):
            # "Keep Odoo's" was chosen for this Wave version: nothing to do until Wave
            # changes the invoice again.
            return "unchanged"
        decisions = self._decide_conflicts(connection, move, wave_groups, odoo_groups)
        if "locked" in decisions.values():
            self._quarantine_locked(connection, move, node, job)
            return "conflict"
        if "review" in decisions.values():
            self._quarantine_conflict(connection, move, node, decisions, job)
            return "conflict"
        apply = {g for g, d in decisions.items() if d == "wave"}
        kept = {g for g, d in decisions.items() if d == "odoo"}
        write_vals = dict(meta, **self._update_values(move, vals, apply, account_fix))
        self._write_update(connection, move, node, vals, write_vals, len(meta), kept)
        if kept:
            self.env["wave.audit.log"]._log_many(
                move,
                "conflict",
                {"kept_odoo": sorted(kept), "applied_wave": sorted(apply)},
            )
        return "updated"

    @api.model
    def _update_values(self, move, vals, apply, account_fix):
        """The values of ``vals`` to write for the groups where Wave's version wins."""
        write_vals = {}
        if "partner" in apply:
            write_vals["partner_id"] = vals["partner_id"]
        if "other" in apply:
            for key in OTHER_GROUP_FIELDS:
                write_vals[key] = vals[key]
        if apply & {"amounts", "taxes"} or account_fix:
            write_vals["invoice_line_ids"] = line_update_commands(move, vals, apply)
            write_vals["currency_id"] = vals["currency_id"]
            if "invoice_currency_rate" in vals:
                write_vals["invoice_currency_rate"] = vals["invoice_currency_rate"]
        return write_vals

    @api.model
    def _write_update(self, connection, move, node, vals, write_vals, meta_count, kept):
        """Write the update (reset to draft and posted again when needed), check totals."""
        before = {
            "state": move.state,
            "amount_total": move.amount_total,
            "partner": move.partner_id.display_name,
        }
        was_posted = move.state == "posted"
        reconciled = self.env["account.move.line"]
        if was_posted and len(write_vals) > meta_count:
            reconciled = self._reconciled_counterparts(move)
            move.button_draft()
        rate = write_vals.pop("invoice_currency_rate", None)
        move.write(write_vals)
        if rate:
            move.invoice_currency_rate = rate
        Importer = self.env["wave.invoice.importer"]
        if not kept & {"amounts", "taxes"}:
            reasons = Importer._check_totals(connection, move, node)
            if reasons:
                raise InvoiceRejected(reasons)
        if (was_posted or vals["wave_status"] in POSTED_STATUSES) and move.state == "draft":
            move.action_post()
        if reconciled:
            self._reconcile_again(move, reconciled)
        Importer._after_sync(connection, move, "update", values_before=before)

    @api.model
    def _reconciled_counterparts(self, move):
        """The payment lines reconciled with ``move``'s receivable (reset to draft
        unreconciles them)."""
        receivable = move.line_ids.filtered(
            lambda line: line.account_id.account_type in ("asset_receivable", "liability_payable")
        )
        partials = receivable.matched_debit_ids | receivable.matched_credit_ids
        return (partials.debit_move_id | partials.credit_move_id) - receivable

    @api.model
    def _reconcile_again(self, move, counterparts):
        """Reconcile the amended, posted ``move`` with its payments again."""
        receivable = move.line_ids.filtered(
            lambda line: (
                line.account_id.account_type in ("asset_receivable", "liability_payable")
                and not line.reconciled
            )
        )
        plan = []
        for account in receivable.account_id:
            lines = counterparts.filtered(
                lambda line, acc=account: line.account_id == acc and not line.reconciled
            )
            if lines:
                plan.append(receivable.filtered(lambda x, acc=account: x.account_id == acc) | lines)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
            self.env["wave.audit.log"]._log_many(
                move, "update", {"reconciled_again": sorted(counterparts.move_id.mapped("name"))}
            )

    @api.model
    def _decide_conflicts(self, connection, move, wave_groups, odoo_groups):
        """``{group: "wave" | "odoo" | "review"}`` for the groups Wave changed.

        Unposted moves take Wave's change unless Odoo changed the same group;
        posted moves always follow the group's policy. A replay from the
        quarantine (context ``wave_force_wave``) applies Wave's version.
        """
        decisions = {}
        locked = move.state == "posted" and self._period_locked(move)
        for group in wave_groups:
            if group in odoo_groups and not self.env.context.get("wave_force_wave"):
                # both sides changed it since the last sync: a true conflict
                decisions[group] = connection[f"conflict_policy_{group}"]
            else:
                decisions[group] = "wave"
            if decisions[group] == "wave" and locked:
                decisions[group] = "locked"
        return decisions

    @api.model
    def _period_locked(self, move):
        """True when Odoo's lock dates forbid resetting the posted ``move`` to draft."""
        has_tax = bool(move.line_ids.tax_ids)
        return bool(move._get_violated_lock_dates(move.date, has_tax))

    @api.model
    def _quarantine_locked(self, connection, move, node, job):
        self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "Invoice",
            [
                _(
                    "The invoice was changed in Wave, but %(name)s is in a locked period "
                    "in Odoo (dated %(date)s): it cannot be changed there.",
                    name=move.name,
                    date=move.date,
                )
            ],
            wave_id=node["id"],
            record=move,
            payload={"wave": node, "odoo": self._odoo_version(move)},
            suggested_fix=_(
                "Have an accounting administrator unlock the period (lock dates) and replay, or "
                "book the difference yourself with a credit note and discard this entry."
            ),
            name=_("Locked period: %s", move.name or node.get("invoiceNumber")),
            sync_job=job,
        )

    @api.model
    def _odoo_version(self, move):
        """Odoo's side of a conflict: totals and lines, for the side-by-side view."""
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        return {
            "name": move.name,
            "state": move.state,
            "amount_untaxed": move.amount_untaxed,
            "amount_total": move.amount_total,
            "amount_tax": move.amount_tax,
            "partner": move.partner_id.display_name,
            "lines": [
                {
                    "description": line.name,
                    "quantity": line.quantity,
                    "unit_price": line.price_unit,
                    "subtotal": line.price_subtotal,
                    "taxes": ", ".join(line.tax_ids.mapped("name")),
                }
                for line in lines
            ],
            "snapshot": move._wave_snapshot(),
        }

    @api.model
    def _keep_odoo(self, move, node):
        """ "Keep Odoo's": this Wave version of the invoice is not applied (audited)."""
        modified = parse_wave_datetime(node.get("modifiedAt")) or fields.Datetime.now()
        move.wave_kept_odoo_until = modified
        self.env["wave.audit.log"]._log_many(
            move,
            "conflict",
            {
                "kept_odoo": "all",
                "wave_modified_at": str(modified),
                "wave_version": wave_version_key(node),
            },
        )

    @api.model
    def _declined_version(self, move):
        """The fingerprint of the Wave version last declined for ``move`` ("Keep Odoo's",
        kept in the audit log), or None. Odoo keeps change times to the second, so a
        Wave edit made in the same second as the declined version is told apart by it."""
        # sudo: the audit log is only read, for the move the sync is updating, in the
        # move's own company.
        entry = (
            self.env["wave.audit.log"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", move.id),
                    ("action", "=", "conflict"),
                    ("company_id", "=", move.company_id.id),
                ],
                order="id desc",
                limit=1,
            )
        )
        return (entry.values_after or {}).get("wave_version") if entry else None

    @api.model
    def _quarantine_conflict(self, connection, move, node, decisions, job):
        odoo_version = self._odoo_version(move)
        groups = sorted(g for g, d in decisions.items() if d == "review")
        reason = _(
            "Changed both in Wave and in Odoo since the last sync: %s. Compare both "
            "versions and choose one.",
            ", ".join(groups),
        )
        self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "Invoice",
            [reason],
            wave_id=node["id"],
            record=move,
            payload={"wave": node, "odoo": odoo_version},
            suggested_fix=_(
                "Compare both versions below; \"Take Wave's\" applies Wave's version, "
                "\"Keep Odoo's\" keeps Odoo's."
            ),
            name=_("Conflict on %s", move.name or node.get("invoiceNumber")),
            sync_job=job,
        )
        self.env["wave.audit.log"]._log_many(
            move,
            "conflict",
            {"review": groups, "wave_total": (node.get("total") or {}).get("value")},
        )

    # ------------------------------------------------------------------
    # Deletions
    # ------------------------------------------------------------------
    @api.model
    def _apply_deletions(self, connection, wave_ids, job=None):
        """Invoices deleted at Wave: cancel drafts, reverse posted ones, or review."""
        updater = self.with_env(connection.env)
        moves = updater.env["account.move"].search(
            [
                ("wave_id", "in", list(wave_ids)),
                ("company_id", "=", connection.company_id.id),
                ("state", "!=", "cancel"),
            ]
        )
        results = {}
        for move in moves:
            try:
                with updater.env.cr.savepoint():
                    results[move.wave_id] = updater._delete_invoice(connection, move, job)
            except Exception as error:
                updater._quarantine_deletion(
                    connection,
                    move,
                    _("Deleted in Wave but could not be cancelled: %s", error),
                    None,
                    job,
                )
                results[move.wave_id] = "quarantined"
        return results

    @api.model
    def _delete_invoice(self, connection, move, job):
        before = {"state": move.state, "amount_total": move.amount_total}
        if connection.deletion_policy == "review":
            self._quarantine_deletion(
                connection,
                move,
                _("The invoice was deleted in Wave."),
                _("Cancel or reverse %s in Odoo, or discard this entry.", move.display_name),
                job,
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

    @api.model
    def _quarantine_deletion(self, connection, move, reason, suggested_fix, job):
        self.env["wave.quarantine"]._open_or_bump(
            connection,
            "inbound",
            "Invoice",
            [reason],
            wave_id=move.wave_id,
            record=move,
            payload={"id": move.wave_id, "deleted": True},
            suggested_fix=suggested_fix or False,
            sync_job=job,
        )
