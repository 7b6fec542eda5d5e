# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: vendor bills, their payments and other journal entries → money transactions.

Wave has no bills and every money transaction hangs on an *anchor*: a bank,
credit card, loan or money-in-transit account. Vendor bills are therefore
exported on a cash basis: each payment of a posted bill becomes one money
transaction (anchor = the payment journal's mapped Wave account, WITHDRAWAL
for money out; line items = the bill's lines on their mapped Wave accounts,
with their sales taxes; partial payments take their share of every line).
Other journal entries are exported when exactly one of their lines is on a
mapped anchor account; the other lines become line items.

Amounts are unsigned: the anchor carries its ``direction`` and each line item
a ``balance`` of INCREASE/DECREASE relative to the Wave account's normal
balance (debit for assets and expenses, credit for liabilities, equity and
income; inverted for the contra subtypes DISCOUNTS and
DEPRECIATION_AND_AMORTIZATION), so that the transaction balances.

Wave cannot read money transactions back nor de-duplicate them: a lost answer
puts the entry in the *Needs confirmation* queue; it is never resent blindly.
Businesses on Wave's classic accounting cannot receive money transactions.
"""

from decimal import ROUND_HALF_UP, Decimal

from odoo import _, fields, models

from ..lib import WaveError, WaveOutcomeUnknownError, WaveRateLimitedError, WaveValidationError
from .wave_outbound import OutboundRetry

ANCHOR_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD", "LOANS"}
CONTRA_SUBTYPES = {"DISCOUNTS", "DEPRECIATION_AND_AMORTIZATION"}
DEBIT_NORMAL_TYPES = {"ASSET", "EXPENSE"}
LIABILITY_SUBTYPES = {"CREDIT_CARD", "LOANS"}


class CannotExport(Exception):
    """The record cannot be turned into a money transaction (reason in the message)."""


def balance_type(mapping, debit):
    """INCREASE/DECREASE for a debit (``debit=True``) or credit on a mapped Wave account."""
    wave_type = mapping.wave_account_type
    if not wave_type:
        wave_type = "LIABILITY" if mapping.wave_account_subtype in LIABILITY_SUBTYPES else "ASSET"
    normal_debit = wave_type in DEBIT_NORMAL_TYPES
    if mapping.wave_account_subtype in CONTRA_SUBTYPES:
        normal_debit = not normal_debit
    return "INCREASE" if debit == normal_debit else "DECREASE"


class WaveApi(models.Model):
    _inherit = "wave.api"

    # ------------------------------------------------------------------
    # Sources
    # ------------------------------------------------------------------
    def _outbound_export_bill_payments(self, payments):
        allocations, sub_keys = {}, {}
        for payment in payments:
            bills = self._outbound_payment_documents(payment).filtered(
                lambda m: m.move_type in ("in_invoice", "in_refund") and m.wave_origin != "wave"
            )
            alloc = self._outbound_payment_allocations(payment, bills)
            if alloc:
                allocations[payment] = alloc
                sub_keys[payment] = [f"bill{bill.id}" for bill in alloc]
        if not allocations:
            return True
        payments = self.env["account.payment"].union(*allocations)
        bills = self.env["account.move"].union(*[b for a in allocations.values() for b in a])
        taxes = bills.invoice_line_ids.tax_ids.flatten_taxes_hierarchy()
        if taxes.filtered(lambda t: not t.wave_id):
            self._outbound_ensure_dependencies(
                self._get_client("bulk"),
                self.env["res.partner"],
                self.env["product.product"],
                taxes,
            )
        entries = self._outbound_entries(payments, "money_transaction", sub_keys)

        def build(payment, sub_key):
            bill = self.env["account.move"].browse(int(sub_key[4:]))
            return self._outbound_bill_payment_details(payment, bill, allocations[payment][bill])

        return self._outbound_export_money(entries, build)

    def _outbound_export_entries(self, moves):
        moves = moves.filtered(
            lambda m: (
                m.company_id == self.company_id
                and m.move_type == "entry"
                and m.state == "posted"
                and m.wave_origin != "wave"
                and not m.origin_payment_id
                and not m.statement_line_id
            )
        )
        if not moves:
            return True
        entries = self._outbound_entries(moves, "money_transaction")
        return self._outbound_export_money(
            entries, lambda move, _sub: self._outbound_entry_details(move)
        )

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------
    def _outbound_maps_by_account(self, accounts):
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", self.id), ("account_id", "in", accounts.ids)], order="id"
        )
        result = {}
        for mapping in maps:
            result.setdefault(mapping.account_id, mapping)
        return result

    def _outbound_amount(self, value, currency):
        exponent = Decimal(1).scaleb(-currency.decimal_places)
        return Decimal(str(value)).quantize(exponent, rounding=ROUND_HALF_UP)

    def _outbound_bill_payment_details(self, payment, bill, amount):
        anchor_map = self.env["wave.account.map"].search(
            [("connection_id", "=", self.id), ("journal_id", "=", payment.journal_id.id)], limit=1
        )
        if not anchor_map or anchor_map.wave_account_subtype not in ANCHOR_SUBTYPES:
            raise CannotExport(
                _(
                    "The journal %(journal)s is not mapped to a Wave bank or card account.",
                    journal=payment.journal_id.display_name,
                )
            )
        currency = bill.currency_id
        total = self._outbound_amount(amount, currency)
        ratio = Decimal(str(amount)) / Decimal(str(bill.amount_total or 1))
        lines = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        maps = self._outbound_maps_by_account(lines.account_id)
        missing = lines.account_id.filtered(lambda a: a not in maps)
        if missing:
            raise CannotExport(
                _(
                    "These accounts are not mapped to Wave accounts: %s",
                    ", ".join(missing.mapped("display_name")),
                )
            )
        items, signed = [], Decimal(0)
        for line in lines:
            gross = self._outbound_amount(abs(line.price_total) * float(ratio), currency)
            if not gross:
                continue
            debit = line.balance > 0
            taxes = []
            if line.tax_ids:
                details = line.tax_ids.compute_all(
                    line.price_unit * (1 - (line.discount or 0.0) / 100.0),
                    currency=currency,
                    quantity=line.quantity,
                    product=line.product_id,
                    partner=bill.partner_id,
                )
                for tax_data in details["taxes"]:
                    tax = self.env["account.tax"].browse(tax_data["id"])
                    tax_amount = self._outbound_amount(
                        abs(tax_data["amount"]) * float(ratio), currency
                    )
                    if not tax.wave_id:
                        raise CannotExport(_("The tax %s has no Wave sales tax.", tax.display_name))
                    if tax_amount:
                        taxes.append({"salesTaxId": tax.wave_id, "amount": str(tax_amount)})
            mapping = maps[line.account_id]
            item = {
                "accountId": mapping.wave_account_id,
                "amount": gross,
                "balance": balance_type(mapping, debit),
                "description": (line.name or bill.name)[:255],
            }
            if taxes:
                item["taxes"] = taxes
            items.append((item, debit))
            signed += gross if debit else -gross
        if not items:
            raise CannotExport(_("Bill %s has no line to export.", bill.name))
        # Rounding of the share of each line: the last line absorbs the cents.
        out = payment.payment_type == "outbound"
        target = total if out else -total
        diff = target - signed
        item, debit = items[-1]
        item["amount"] += diff if debit else -diff
        if item["amount"] <= 0:
            raise CannotExport(_("The payment does not match the bill's lines."))
        return {
            "date": fields.Date.to_string(payment.date),
            "description": _("%(payment)s for %(bill)s", payment=payment.name, bill=bill.name)[
                :255
            ],
            "notes": bill.ref or None,
            "anchor": {
                "accountId": anchor_map.wave_account_id,
                "amount": str(total),
                "direction": "WITHDRAWAL" if out else "DEPOSIT",
            },
            "lineItems": [dict(i, amount=str(i["amount"])) for i, _d in items],
        }

    def _outbound_entry_details(self, move):
        lines = move.line_ids.filtered(lambda line: not move.currency_id.is_zero(line.balance))
        maps = self._outbound_maps_by_account(lines.account_id)
        missing = lines.account_id.filtered(lambda a: a not in maps)
        if missing:
            raise CannotExport(
                _(
                    "These accounts are not mapped to Wave accounts: %s",
                    ", ".join(missing.mapped("display_name")),
                )
            )
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
        currency = move.company_id.currency_id
        items = []
        for line in lines - anchors:
            mapping = maps[line.account_id]
            items.append(
                {
                    "accountId": mapping.wave_account_id,
                    "amount": str(self._outbound_amount(abs(line.balance), currency)),
                    "balance": balance_type(mapping, line.balance > 0),
                    "description": (line.name or move.name)[:255],
                }
            )
        return {
            "date": fields.Date.to_string(move.date),
            "description": (move.ref or move.name)[:255],
            "anchor": {
                "accountId": maps[anchors.account_id].wave_account_id,
                "amount": str(self._outbound_amount(abs(anchors.balance), currency)),
                "direction": "DEPOSIT" if anchors.balance > 0 else "WITHDRAWAL",
            },
            "lineItems": items,
        }

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _outbound_export_money(self, entries, build):
        """Send ``{(record, sub_key): entry}`` as money transactions (all-or-nothing batches)."""
        items = []
        for (record, sub_key), entry in entries.items():
            if entry.state != "pending":
                continue  # confirmed, failed (quarantined) or waiting for confirmation
            with self.env.cr.savepoint():
                if self.is_classic_accounting:
                    self._outbound_fail(
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
                    self._outbound_fail(entry, record, str(reason))
                    continue
                details["externalId"] = entry.external_id
                details = {k: v for k, v in details.items() if v is not None}
                items.append((record, entry, details))
        if not items:
            return True
        client = self._get_client("bulk")
        retry = False
        while items:
            items, again = self._outbound_send_money(client, items)
            retry |= again
        self._outbound_commit()
        if retry:
            raise OutboundRetry(_("Some money transactions could not be sent yet; retrying later."))
        return True

    def _outbound_send_money(self, client, items):
        """One request; returns (items to send again now, retry later?)."""
        self._outbound_mark_sent(
            [(entry, details) for _r, entry, details in items], "moneyTransactionsCreate"
        )
        try:
            if len(items) == 1:
                payload = dict(items[0][2], businessId=self.business_id)
                answer = client.mutate(
                    "moneyTransactionCreate", payload, "transaction { id }", priority="bulk"
                )
                ids = [(answer.get("transaction") or {}).get("id")]
            else:
                answer = client.mutate(
                    "moneyTransactionsCreate",
                    {
                        "businessId": self.business_id,
                        "transactions": [details for _r, _e, details in items],
                    },
                    "transactions { id }",
                    priority="bulk",
                )
                ids = [(t or {}).get("id") for t in answer.get("transactions") or []]
        except WaveRateLimitedError:
            for _r, entry, _d in items:
                entry.write({"state": "pending"})
            self._outbound_commit()
            raise
        except WaveOutcomeUnknownError as error:
            for _record, entry, _d in items:
                with self.env.cr.savepoint():
                    self._outbound_mark_unknown(entry, error)
                    self.env["wave.audit.log"]._log_many(
                        entry, "outbound_needs_confirmation", {"error": str(error)}, "outbound"
                    )
            self._outbound_commit()
            return [], False
        except WaveValidationError as error:
            return self._outbound_money_refused(items, error), False
        except WaveError as error:
            retry = False
            for _r, entry, _d in items:
                retry |= self._outbound_transient_failure(entry, error)
            self._outbound_commit()
            return [], retry
        ids = [*ids, *([None] * (len(items) - len(ids)))]
        for (record, entry, _d), wave_id in zip(items, ids, strict=False):
            with self.env.cr.savepoint():
                self._outbound_mark_confirmed(entry, wave_id)
                if "wave_id" in record and not record.wave_id and wave_id:
                    # sudo: binding fields are written by the sync.
                    record.sudo().write({"wave_id": wave_id, "wave_origin": "odoo"})
                self._outbound_resolve_quarantine(record)
        self._outbound_commit()
        return [], False

    def _outbound_money_refused(self, items, error):
        """All-or-nothing batch refused: quarantine the culprits, send the others again."""
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
                    self._outbound_fail(
                        entry,
                        record,
                        WaveValidationError(input_errors=culprits[i]) if culprits[i] else error,
                        details,
                    )
                else:
                    entry.write({"state": "pending"})
                    again.append((record, entry, details))
        self._outbound_commit()
        return again
