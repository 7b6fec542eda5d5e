# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Changes at Wave to invoices Odoo already imported: updates, conflicts, deletions.

An update compares three versions of the invoice's key fields (see
``account.move._wave_snapshot``): what the sync last wrote, what Odoo has now and
what Wave sends. Per field group (``CONFLICT_GROUPS``) a change only Wave made
is applied; a group changed on both sides, or any change of a posted invoice,
follows the connection's conflict policy of that group (Wave wins, Odoo wins,
or review: the invoice waits in quarantine with both versions).

An invoice deleted at Wave is cancelled (draft) or reversed by a credit note
(posted), or waits for review (``deletion_policy``).
"""

from odoo import _, api, models

from ..mappers.invoice_inbound import (
    CONFLICT_GROUPS,
    OTHER_GROUP_FIELDS,
    POSTED_STATUSES,
    line_update_commands,
    snapshot_from_vals,
)
from .invoice_importer import InvoiceRejected


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
            move.write(meta)
            return "unchanged"
        decisions = self._decide_conflicts(connection, move, wave_groups, odoo_groups)
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
        if was_posted and len(write_vals) > meta_count:
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
        Importer._after_sync(connection, move, "update", values_before=before)

    @api.model
    def _decide_conflicts(self, connection, move, wave_groups, odoo_groups):
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
                decisions[group] = connection[f"conflict_policy_{group}"]
            else:
                decisions[group] = "wave"
        return decisions

    @api.model
    def _quarantine_conflict(self, connection, move, node, decisions, job):
        odoo_version = {
            "name": move.name,
            "state": move.state,
            "amount_total": move.amount_total,
            "amount_tax": move.amount_tax,
            "partner": move.partner_id.display_name,
            "snapshot": move._wave_snapshot(),
        }
        groups = sorted(g for g, d in decisions.items() if d == "review")
        reason = _(
            "Changed in Wave while posted or edited in Odoo: %s (policy: review).",
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
                "Compare both versions; replay applies Wave's version, discard keeps Odoo's."
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
