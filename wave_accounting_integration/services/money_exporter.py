# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: vendor bill payments and other journal entries → Wave money transactions.

Wave has no bills and every money transaction hangs on an *anchor*: a bank,
credit card, loan or money-in-transit account. Vendor bills are therefore
exported on a cash basis: each payment of a posted bill becomes one money
transaction (anchor = the payment journal's mapped Wave account, WITHDRAWAL
for money out; line items = the bill's lines on their mapped Wave accounts,
with their sales taxes; partial payments take their share of every line).
Other journal entries are exported when exactly one of their lines is on a
mapped anchor account; the other lines become line items
(``mappers/money_outbound.py`` builds the inputs).

Wave cannot read money transactions back nor de-duplicate them: a lost answer
puts the entry in the *Needs confirmation* queue; it is never resent blindly.
Businesses on Wave's classic accounting cannot receive money transactions.
"""

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import WaveError, WaveOutcomeUnknownError, WaveRateLimitedError, WaveValidationError
from ..mappers import money_outbound as mapper
from ..mappers.money_outbound import ANCHOR_SUBTYPES, CannotExport
from .job_guard import JobRetryLater


class WaveMoneyExporter(models.AbstractModel):
    _name = "wave.money.exporter"
    _description = "Wave Export of Money Transactions"

    # ------------------------------------------------------------------
    # Sources
    # ------------------------------------------------------------------
    @api.model
    def _export_bill_payments(self, connection, payments):
        allocations, sub_keys = self.env["wave.payment.exporter"]._allocations_of(
            payments,
            lambda m: m.move_type in ("in_invoice", "in_refund") and m.wave_origin != "wave",
            "bill",
        )
        if not allocations:
            return True
        payments = self.env["account.payment"].union(*allocations)
        bills = self.env["account.move"].union(*[b for a in allocations.values() for b in a])
        taxes = bills.invoice_line_ids.tax_ids.flatten_taxes_hierarchy()
        if taxes.filtered(lambda t: not t.wave_id):
            self.env["wave.outbound.dependencies"]._ensure(
                connection,
                connection._get_client("bulk"),
                self.env["res.partner"],
                self.env["product.product"],
                taxes,
            )
        Service = self.env["wave.outbound.ledger.service"]
        entries = Service._entries(connection, payments, "money_transaction", sub_keys)

        def build(payment, sub_key):
            bill = self.env["account.move"].browse(int(sub_key[4:]))
            amount = allocations[payment][bill]
            return self._bill_payment_details(connection, payment, bill, amount)

        return self._export_money(connection, entries, build)

    @api.model
    def _export_entries(self, connection, moves):
        moves = moves.filtered(
            lambda m: (
                m.company_id == connection.company_id
                and m.move_type == "entry"
                and m.state == "posted"
                and m.wave_origin != "wave"
                and not m.origin_payment_id
                and not m.statement_line_id
            )
        )
        if not moves:
            return True
        entries = self.env["wave.outbound.ledger.service"]._entries(
            connection, moves, "money_transaction"
        )
        return self._export_money(
            connection, entries, lambda move, _sub: self._entry_details(connection, move)
        )

    # ------------------------------------------------------------------
    # Checking, then mapping
    # ------------------------------------------------------------------
    @api.model
    def _maps_by_account(self, connection, accounts):
        """``{account: wave.account.map}`` (first mapping per account); every account must
        be mapped, else :class:`CannotExport`."""
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("account_id", "in", accounts.ids)], order="id"
        )
        result = {}
        for mapping in maps:
            result.setdefault(mapping.account_id, mapping)
        missing = accounts.filtered(lambda a: a not in result)
        if missing:
            raise CannotExport(
                _(
                    "These accounts are not mapped to Wave accounts: %s",
                    ", ".join(missing.mapped("display_name")),
                )
            )
        return result

    @api.model
    def _bill_payment_details(self, connection, payment, bill, amount):
        anchor_map = self.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("journal_id", "=", payment.journal_id.id)],
            limit=1,
        )
        if not anchor_map or anchor_map.wave_account_subtype not in ANCHOR_SUBTYPES:
            raise CannotExport(
                _(
                    "The journal %(journal)s is not mapped to a Wave bank or card account.",
                    journal=payment.journal_id.display_name,
                )
            )
        lines = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        maps = self._maps_by_account(connection, lines.account_id)
        return mapper.bill_payment_transaction(payment, bill, amount, anchor_map, maps)

    @api.model
    def _entry_details(self, connection, move):
        lines = move.line_ids.filtered(lambda line: not move.currency_id.is_zero(line.balance))
        maps = self._maps_by_account(connection, lines.account_id)
        anchors = lines.filtered(
            lambda line: maps[line.account_id].wave_account_subtype in ANCHOR_SUBTYPES
        )
        if len(anchors) != 1:
            raise CannotExport(
                _(
                    "Wave needs exactly one bank, card or loan line in an entry (found %s).",
                    len(anchors),
                )
            )
        return mapper.entry_transaction(move, lines, anchors, maps)

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    @api.model
    def _export_money(self, connection, entries, build):
        """Send ``{(record, sub_key): entry}`` as money transactions (all-or-nothing batches)."""
        Service = self.env["wave.outbound.ledger.service"]
        items = []
        for (record, sub_key), entry in entries.items():
            if entry.state != "pending":
                continue  # confirmed, failed (quarantined) or waiting for confirmation
            with self.env.cr.savepoint():
                if connection.is_classic_accounting:
                    Service._fail(
                        connection,
                        entry,
                        record,
                        _(
                            "The Wave business uses classic accounting, which cannot receive money "
                            "transactions: record this in Wave by hand, then discard this entry."
                        ),
                    )
                    continue
                try:
                    details = build(record, sub_key)
                except CannotExport as reason:
                    Service._fail(connection, entry, record, str(reason))
                    continue
                details["externalId"] = entry.external_id
                details = {k: v for k, v in details.items() if v is not None}
                items.append((record, entry, details))
        if not items:
            return True
        client = connection._get_client("bulk")
        retry = False
        while items:
            items, again = self._send(connection, client, items)
            retry |= again
        Service._commit(connection)
        if retry:
            raise JobRetryLater(_("Some money transactions could not be sent yet; retrying later."))
        return True

    @api.model
    def _create(self, connection, client, items):
        """One create request of the items' transactions; their Wave ids, in order."""
        if len(items) == 1:
            payload = dict(items[0][2], businessId=connection.business_id)
            answer = client.mutate(
                gql.MONEY_TRANSACTION_CREATE_MUTATION,
                payload,
                gql.MONEY_TRANSACTION_RESULT_SELECTION,
                priority="bulk",
            )
            return [(answer.get("transaction") or {}).get("id")]
        answer = client.mutate(
            gql.MONEY_TRANSACTIONS_CREATE_MUTATION,
            {
                "businessId": connection.business_id,
                "transactions": [details for _r, _e, details in items],
            },
            gql.MONEY_TRANSACTIONS_RESULT_SELECTION,
            priority="bulk",
        )
        return [(t or {}).get("id") for t in answer.get("transactions") or []]

    @api.model
    def _send(self, connection, client, items):
        """One request; returns (items to send again now, retry later?)."""
        Service = self.env["wave.outbound.ledger.service"]
        Service._mark_sent(
            connection,
            [(entry, details) for _r, entry, details in items],
            gql.MONEY_TRANSACTIONS_CREATE_MUTATION,
        )
        try:
            ids = self._create(connection, client, items)
        except WaveRateLimitedError:
            Service._mark_pending(connection, [entry for _r, entry, _d in items])
            raise
        except WaveOutcomeUnknownError as error:
            for _record, entry, _d in items:
                with self.env.cr.savepoint():
                    Service._mark_unknown(connection, entry, error)
                    self.env["wave.audit.log"]._log_many(
                        entry, "outbound_needs_confirmation", {"error": str(error)}, "outbound"
                    )
            Service._commit(connection)
            return [], False
        except WaveValidationError as error:
            return self._refused(connection, items, error), False
        except WaveError as error:
            retry = False
            for _r, entry, _d in items:
                retry |= Service._transient_failure(connection, entry, error)
            Service._commit(connection)
            return [], retry
        ids = [*ids, *([None] * (len(items) - len(ids)))]
        for (record, entry, _d), wave_id in zip(items, ids, strict=False):
            with self.env.cr.savepoint():
                Service._mark_confirmed(connection, entry, wave_id)
                if "wave_id" in record and not record.wave_id and wave_id:
                    Service._bind_write(
                        connection, record, {"wave_id": wave_id, "wave_origin": "odoo"}
                    )
                Service._resolve_quarantine(connection, record)
        Service._commit(connection)
        return [], False

    @api.model
    def _refused(self, connection, items, error):
        """All-or-nothing batch refused: quarantine the culprits, send the others again."""
        Service = self.env["wave.outbound.ledger.service"]
        culprits = {}
        single = len(items) == 1
        for input_error in error.input_errors:
            path = [str(p) for p in input_error.get("path") or []]
            if single:
                culprits.setdefault(0, []).append(input_error)
            elif "transactions" in path:
                index = path[path.index("transactions") + 1]
                if index.isdigit():
                    culprits.setdefault(int(index), []).append(input_error)
        if not culprits:
            culprits = dict.fromkeys(range(len(items)), error.input_errors)
        again = []
        for i, (record, entry, details) in enumerate(items):
            with self.env.cr.savepoint():
                if i in culprits:
                    reason = WaveValidationError(input_errors=culprits[i]) if culprits[i] else error
                    Service._fail(connection, entry, record, reason, details)
                else:
                    entry._wave_sync_write({"state": "pending"})
                    again.append((record, entry, details))
        Service._commit(connection)
        return again
