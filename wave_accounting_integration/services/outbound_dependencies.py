# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: the customers, products and sales taxes an invoice needs in Wave.

All missing ones are created in ONE request (aliased ``customerCreate`` /
``productCreate`` / ``salesTaxCreate``). A lost answer is resolved by
searching Wave: customers by email or by the ``Odoo ref <externalId>`` marker
in their internal notes, products by name, unit price and description (bound
to no other product; several fits go to review), sales taxes by abbreviation.
Changed customers and products exported earlier are patched (idempotent: no
ledger row needed).
"""

from datetime import timedelta
from decimal import Decimal

from odoo import _, api, models

from ..graphql import outbound as gql
from ..lib import (
    WaveError,
    WaveOutcomeUnknownError,
    WaveRateLimitedError,
    WaveValidationError,
)
from ..lib.dates import format_wave_datetime, parse_wave_datetime
from ..lib.wave_enums import unsupported_country
from ..mappers import reference_outbound as mapper
from .job_guard import JobRetryLater

LOOKUP_SKEW = timedelta(minutes=10)

#: Lookup answer of a lost create that several Wave objects fit.
AMBIGUOUS = object()


def same_amount(left, right):
    """Whether two Wave decimals (text or numbers) are equal."""
    try:
        return Decimal(str(left)) == Decimal(str(right))
    except (ArithmeticError, ValueError):
        return False


def product_matches(node, sent):
    """Whether Wave product ``node`` is what ``sent`` (a ``ProductCreateInput``) made."""
    return (
        node.get("name") == sent.get("name")
        and same_amount(node.get("unitPrice"), sent.get("unitPrice", "0"))
        and (node.get("description") or "") == (sent.get("description") or "")
    )


#: (ledger kind, create mutation, result selection, result key), per kind of reference.
KINDS = {
    "customer": (
        gql.CUSTOMER_CREATE_MUTATION,
        gql.CUSTOMER_RESULT_SELECTION,
        "customer",
    ),
    "product": (gql.PRODUCT_CREATE_MUTATION, gql.PRODUCT_RESULT_SELECTION, "product"),
    "sales_tax": (gql.SALES_TAX_CREATE_MUTATION, gql.SALES_TAX_RESULT_SELECTION, "salesTax"),
}


class WaveOutboundDependencies(models.AbstractModel):
    _name = "wave.outbound.dependencies"
    _description = "Wave Export of Customers, Products and Sales Taxes"

    @api.model
    def _sync_customers(self, connection, partners):
        self._ensure(
            connection,
            connection._get_client("bulk"),
            partners.commercial_partner_id,
            self.env["product.product"],
            self.env["account.tax"],
            patch=True,
        )

    @api.model
    def _sync_products(self, connection, products):
        self._ensure(
            connection,
            connection._get_client("bulk"),
            self.env["res.partner"],
            products,
            self.env["account.tax"],
            patch=True,
        )

    # ------------------------------------------------------------------
    # Inputs
    # ------------------------------------------------------------------
    @api.model
    def _input(self, connection, kind, record, entry):
        """The create input of one reference (``record`` is the connection for the
        generic product)."""
        if record == connection:
            return mapper.generic_product_input(
                connection.business_id, connection.outbound_generic_product_name
            )
        if kind == "customer":
            return mapper.customer_input(record, connection.business_id, entry.external_id)
        if kind == "product":
            return mapper.product_input(
                record, connection.business_id, self._income_account_id(connection, record)
            )
        return mapper.sales_tax_input(record, connection.business_id)

    @api.model
    def _income_account_id(self, connection, product):
        """The Wave income account mapped to ``product``'s income account, if any."""
        income = (
            product.property_account_income_id or product.categ_id.property_account_income_categ_id
        )
        if not income:
            return None
        mapping = self.env["wave.account.map"].search(
            [("connection_id", "=", connection.id), ("account_id", "=", income.id)],
            order="id",
            limit=1,
        )
        if mapping and mapping.wave_account_subtype in ("INCOME", "OTHER_INCOME"):
            return mapping.wave_account_id
        return None

    # ------------------------------------------------------------------
    # Ensuring
    # ------------------------------------------------------------------
    @api.model
    def _ensure(
        self, connection, client, partners, products, taxes, need_generic=False, patch=False
    ):
        """Create the missing Wave customers/products/taxes in one request.

        Returns ``(failures, waiting)``: ``{record: reason}`` of the records
        Wave refused or that cannot be exported (they are quarantined), and of
        the records whose creation is not confirmed yet (a lost answer not
        found by the lookup, sent again on the next run): documents needing
        those wait, they do not fail.
        """
        connection.ensure_one()
        failures = {}
        partners = partners.filtered(lambda p: p.wave_origin != "wave" or not p.wave_id)
        if patch:
            self._patch(
                connection, client, partners.filtered("wave_id"), products.filtered("wave_id")
            )
        todo = {
            "customer": partners.filtered(lambda p: not p.wave_id),
            "product": products.filtered(lambda p: not p.wave_id),
            "sales_tax": self._taxes_to_create(connection, client, taxes, failures),
        }
        generic = need_generic and not connection.outbound_generic_product_wave_id
        entries = self._dependency_entries(connection, todo, generic)
        # Lost answers of earlier runs: look them up before sending anything.
        unresolved = {r: e for r, e in entries.items() if e.state in ("sent", "outcome_unknown")}
        if unresolved:
            self._resolve_lost(connection, client, unresolved)
        items, meta = self._dependency_items(connection, entries, failures)
        if items:
            self._send(connection, client, items, meta, failures)
        waiting = {}
        for record, entry in entries.items():
            if entry.state == "confirmed":
                self._bind(connection, record, entry)
            elif record in failures:
                continue
            elif entry.state == "failed":
                failures[record] = entry.error_message or _("Refused by Wave")
            else:
                waiting[record] = _(
                    "%s is not confirmed in Wave yet; it is looked up and sent again "
                    "on the next run.",
                    entry.record_name or record.display_name,
                )
        return failures, waiting

    @api.model
    def _taxes_to_create(self, connection, client, taxes, failures):
        """The taxes Wave must receive; the refused ones go to ``failures``."""
        taxes = taxes.filtered(lambda t: not t.wave_id)
        if taxes and not connection.allow_sales_tax_create:
            for tax in taxes:
                failures[tax] = _(
                    "The sales tax %(tax)s has no Wave sales tax: map it (Wave ID on the tax) "
                    "or allow creating sales taxes on the Wave connection.",
                    tax=tax.display_name,
                )
            return taxes.browse()
        for tax in taxes.filtered(lambda t: t.amount_type != "percent"):
            failures[tax] = _(
                "The sales tax %(tax)s is not a percentage: Wave only knows percentage taxes.",
                tax=tax.display_name,
            )
        taxes = taxes.filtered(lambda t: t.amount_type == "percent")
        if taxes:
            taxes = self._match_taxes(connection, client, taxes)
        return taxes

    @api.model
    def _dependency_entries(self, connection, todo, generic):
        """``{record: ledger entry}`` (the connection stands for the generic product)."""
        Service = self.env["wave.outbound.ledger.service"]
        entries = {}
        for kind, records in todo.items():
            if records:
                for (record, _sub), entry in Service._entries(connection, records, kind).items():
                    entries[record] = entry
        if generic:
            (((_conn, _sub), generic_entry),) = Service._entries(
                connection, connection, "product", {connection: ["generic"]}
            ).items()
            entries[connection] = generic_entry
        return entries

    @api.model
    def _dependency_items(self, connection, entries, failures):
        """``([(mutation, selection, key, entry, input)], {entry: record})`` still to send."""
        items, meta = [], {}
        for record, entry in entries.items():
            if entry.state == "confirmed":
                continue
            if record == connection:
                if entry.state == "failed":
                    continue
            else:
                if entry.state == "failed" and record.write_date > entry.write_date:
                    entry._wave_sync_write(
                        {"state": "pending"}
                    )  # fixed since Wave refused it: try again
                if entry.state == "failed":
                    failures[record] = entry.error_message or _("Refused by Wave")
                    continue
            if entry.state != "pending":
                continue  # a lost answer the look-up could not settle: never sent twice
            name, selection, key = KINDS[entry.kind]
            payload = self._input(connection, entry.kind, record, entry)
            problem = self._unsupported_code(entry.kind, payload)
            if problem:
                # Wave would refuse the whole aliased request: only this record waits.
                self.env["wave.outbound.ledger.service"]._fail(
                    connection, entry, record, problem, payload
                )
                failures[record] = problem
                continue
            items.append((name, selection, key, entry, payload))
            meta[entry] = record
        return items, meta

    @api.model
    def _unsupported_code(self, kind, payload):
        """Why Wave's enums refuse ``payload`` (a customer's country), or None."""
        country = ((payload or {}).get("address") or {}).get("countryCode")
        if kind == "customer" and unsupported_country(country):
            return _(
                "Wave does not know the country %(code)s (it is not in Wave's list of "
                "countries): customer %(name)s cannot be sent to Wave. Change the country of "
                "its address in Odoo (or remove it), then replay.",
                code=country,
                name=payload.get("name"),
            )
        return None

    @api.model
    def _send(self, connection, client, items, meta, failures):
        """One aliased request for all creates (different mutations mix fine)."""
        Service = self.env["wave.outbound.ledger.service"]
        entries = [entry for _n, _s, _k, entry, _p in items]
        Service._mark_sent(connection, [(e, p) for _n, _s, _k, e, p in items], "create")
        batch = [
            (f"d{i}", name, payload, selection)
            for i, (name, selection, _k, _e, payload) in enumerate(items)
        ]
        try:
            answer = client.mutate_many(batch, operation_name="OdooCreateDependencies")
        except WaveRateLimitedError:
            Service._mark_pending(connection, entries)
            raise
        except (WaveOutcomeUnknownError, WaveValidationError) as error:
            answer = {f"d{i}": error for i in range(len(items))}
        except WaveError as error:
            Service._mark_pending(connection, entries, error)
            raise JobRetryLater(str(error)) from None
        unknown = {}
        for i, (_name, _sel, key, entry, payload) in enumerate(items):
            record = meta[entry]
            value = answer.get(f"d{i}")
            with self.env.cr.savepoint():
                if isinstance(value, WaveValidationError):
                    Service._fail(connection, entry, record, value, payload)
                    failures[record] = entry.error_message
                elif isinstance(value, WaveError):
                    Service._mark_unknown(connection, entry, value)
                    unknown[record] = entry
                else:
                    obj = (value or {}).get(key) or {}
                    Service._mark_confirmed(connection, entry, obj.get("id"))
                    self._bind(connection, record, entry, obj)
        Service._commit(connection)
        if unknown:
            self._resolve_lost(connection, client, unknown)

    @api.model
    def _wave_taxes(self, connection, client):
        """Wave's sales taxes of the business."""
        return self.env["wave.outbound.ledger.service"]._find(
            connection,
            client,
            gql.SALES_TAXES_FIND_QUERY,
            {"businessId": connection.business_id},
            "salesTaxes",
        )

    @api.model
    def _match_taxes(self, connection, client, taxes):
        """Bind taxes Wave already has (same abbreviation and rate); return the others.

        Wave refuses a second sales tax with the same abbreviation, and a tax
        created by an earlier export whose binding was lost must not be created twice.
        """
        nodes = {n["abbreviation"].lower(): n for n in self._wave_taxes(connection, client)}
        rate_of = {n["id"]: Decimal(str(n["rate"])) for n in nodes.values()}
        missing = taxes.browse()
        for tax in taxes:
            node = nodes.get(mapper.tax_abbreviation(tax).lower())
            wanted = Decimal(mapper.tax_rate(tax))
            if node and rate_of.get(node["id"]) == wanted:
                self.env["wave.outbound.ledger.service"]._bind_write(
                    connection, tax, {"wave_id": node["id"], "wave_origin": "odoo"}
                )
                self._close_open_entries(connection, tax, node["id"])
            else:
                missing |= tax
        return missing

    @api.model
    def _close_open_entries(self, connection, record, wave_id):
        """``record`` was found in Wave: its unsettled ledger rows (a lost answer in
        the *Needs confirmation* queue, or a create not sent yet) are confirmed by
        that lookup."""
        Service = self.env["wave.outbound.ledger.service"]
        entries = self.env["wave.outbound.ledger"].search(
            [
                ("connection_id", "=", connection.id),
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("state", "in", ("pending", "sent", "outcome_unknown")),
            ]
        )
        for entry in entries:
            Service._mark_confirmed(connection, entry, wave_id, "lookup")
        if entries:
            Service._resolve_quarantine(connection, record)

    @api.model
    def _bind(self, connection, record, entry, obj=None):
        """Write the Wave id of a confirmed reference on its Odoo record."""
        if record == connection:
            if connection.outbound_generic_product_wave_id != entry.wave_id:
                # sudo: the connection's own bookkeeping field.
                connection.sudo().outbound_generic_product_wave_id = entry.wave_id
            return
        vals = {"wave_id": entry.wave_id, "wave_origin": "odoo"}
        if obj and obj.get("modifiedAt"):
            vals["wave_modified_at"] = parse_wave_datetime(obj["modifiedAt"])
        if record._name == "product.product":
            vals["wave_company_id"] = connection.company_id.id
        if record.wave_id != entry.wave_id:
            self.env["wave.outbound.ledger.service"]._bind_write(connection, record, vals)
            self.env["wave.outbound.ledger.service"]._resolve_quarantine(connection, record)

    # ------------------------------------------------------------------
    # Lost answers
    # ------------------------------------------------------------------
    @api.model
    def _resolve_lost(self, connection, client, unresolved):
        """Search Wave for objects whose create answer was lost."""
        oldest = min((e.sent_at or e.create_date for e in unresolved.values()), default=None)
        after = format_wave_datetime(oldest - LOOKUP_SKEW) if oldest else None
        kinds = {e.kind for e in unresolved.values()}
        found = {}
        if "customer" in kinds:
            found.update(self._find_customers(connection, client, unresolved, after))
        if "product" in kinds:
            found.update(self._find_products(connection, client, unresolved, after))
        if "sales_tax" in kinds:
            found.update(self._find_taxes(connection, client, unresolved))
        Service = self.env["wave.outbound.ledger.service"]
        for record, entry in unresolved.items():
            with self.env.cr.savepoint():
                if found.get(record) is AMBIGUOUS:
                    # Several Wave objects fit: a person picks (never a guess, never resent).
                    self._ask_review(connection, record, entry)
                elif record in found:
                    Service._mark_confirmed(connection, entry, found[record]["id"], "lookup")
                    self._bind(connection, record, entry, found[record])
                else:
                    # Searched and not there: it was never created, send it again.
                    entry._wave_sync_write({"state": "pending"})
        Service._commit(connection)

    @api.model
    def _find_customers(self, connection, client, unresolved, after):
        """Customers carrying our marker (by email when the contact has one)."""
        Service = self.env["wave.outbound.ledger.service"]
        found = {}
        for record, entry in unresolved.items():
            if entry.kind != "customer":
                continue
            variables = {"businessId": connection.business_id, "after": after}
            if record.email:
                variables["email"] = record.email
            nodes = Service._find(
                connection, client, gql.CUSTOMERS_FIND_QUERY, variables, "customers"
            )
            for node in nodes:
                if entry.external_id in (node.get("internalNotes") or ""):
                    found[record] = node
                    break
        return found

    @api.model
    def _find_products(self, connection, client, unresolved, after):
        """Products exactly as we sent them (name, unit price, description), created
        since the first lost request and bound to no other Odoo product.

        Wave products carry no marker of ours: when several Wave products fit one
        lost create, or one Wave product fits several lost creates, the answer is
        :data:`AMBIGUOUS` (a person decides).
        """
        nodes = self.env["wave.outbound.ledger.service"]._find(
            connection,
            client,
            gql.PRODUCTS_FIND_QUERY,
            {"businessId": connection.business_id, "after": after},
            "products",
        )
        wanted = {r: e for r, e in unresolved.items() if e.kind == "product"}
        if not wanted:
            return {}
        taken = self._bound_product_ids(connection, [n["id"] for n in nodes])
        candidates = {}
        for record, entry in wanted.items():
            sent = entry.request_summary or {}
            since = entry.sent_at or entry.create_date
            candidates[record] = [
                node
                for node in nodes
                if node["id"] not in taken
                and product_matches(node, sent)
                and (
                    not node.get("createdAt")
                    or parse_wave_datetime(node["createdAt"]) >= since - LOOKUP_SKEW
                )
            ]
        claims = {}
        for matches in candidates.values():
            for node in matches:
                claims[node["id"]] = claims.get(node["id"], 0) + 1
        found = {}
        for record, matches in candidates.items():
            if len(matches) == 1 and claims[matches[0]["id"]] == 1:
                found[record] = matches[0]
            elif matches:
                found[record] = AMBIGUOUS
        return found

    @api.model
    def _bound_product_ids(self, connection, wave_ids):
        """The ``wave_ids`` already bound to an Odoo product (or the generic product)."""
        products = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search([("wave_id", "in", wave_ids)])
        )
        taken = set(products.mapped("wave_id"))
        if connection.outbound_generic_product_wave_id:
            taken.add(connection.outbound_generic_product_wave_id)
        return taken

    @api.model
    def _ask_review(self, connection, record, entry):
        """A lost create matches several Wave objects: leave it in *Needs
        confirmation* and open a review saying so."""
        Service = self.env["wave.outbound.ledger.service"]
        reason = _(
            "The answer to creating %(name)s in Wave was lost, and several Wave products "
            "look the same. Check Wave, then confirm the right one (Wave ID) on the export "
            "ledger entry, or release it to be sent again.",
            name=entry.record_name or record.display_name,
        )
        entry._wave_sync_write({"state": "outcome_unknown", "error_message": reason})
        if record != connection:
            Service._quarantine(connection, record, reason, entry.request_summary)

    @api.model
    def _find_taxes(self, connection, client, unresolved):
        """Sales taxes of the abbreviation that was sent."""
        nodes = self._wave_taxes(connection, client)
        found = {}
        for record, entry in unresolved.items():
            if entry.kind != "sales_tax":
                continue
            abbreviation = (entry.request_summary or {}).get("abbreviation", "").lower()
            match = [n for n in nodes if n["abbreviation"].lower() == abbreviation]
            if match:
                found[record] = match[0]
        return found

    # ------------------------------------------------------------------
    # Patches / archive (idempotent: no ledger row needed)
    # ------------------------------------------------------------------
    @api.model
    def _patch_batch(self, partners, products):
        """``(batch, targets)`` of the patches of exported customers and products."""
        batch, targets = [], []
        for partner in partners.filtered(lambda p: p.wave_origin == "odoo"):
            payload = mapper.customer_patch_input(partner)
            selection = gql.CUSTOMER_PATCH_RESULT_SELECTION
            batch.append((f"p{len(batch)}", gql.CUSTOMER_PATCH_MUTATION, payload, selection))
            targets.append((partner, payload, "customer"))
        for product in products.filtered(lambda p: p.wave_origin == "odoo"):
            name, payload = mapper.product_patch_input(product)
            selection = gql.PRODUCT_PATCH_RESULT_SELECTION
            batch.append((f"p{len(batch)}", name, payload, selection))
            targets.append((product, payload, "product"))
        return batch, targets

    @api.model
    def _patch(self, connection, client, partners, products):
        batch, targets = self._patch_batch(partners, products)
        if not batch:
            return
        try:
            answer = client.mutate_many(batch, operation_name="OdooPatchDependencies")
        except WaveValidationError as error:
            answer = {alias: error for alias, *_x in batch}
        except WaveRateLimitedError:
            raise
        except WaveError as error:
            raise JobRetryLater(str(error)) from None
        Service = self.env["wave.outbound.ledger.service"]
        for (alias, *_x), (record, payload, key) in zip(batch, targets, strict=True):
            value = answer.get(alias)
            with self.env.cr.savepoint():
                if isinstance(value, WaveError):
                    Service._quarantine(
                        connection, record, _("Wave refused the update:\n%s", value), payload
                    )
                else:
                    obj = (value or {}).get(key) or {}
                    Service._bind_write(
                        connection,
                        record,
                        {"wave_modified_at": parse_wave_datetime(obj.get("modifiedAt"))},
                    )
