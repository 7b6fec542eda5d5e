# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Outbound: customers, products and sales taxes an invoice needs in Wave.

All missing ones are created in ONE request (aliased ``customerCreate`` /
``productCreate`` / ``salesTaxCreate``). A lost answer is resolved by
searching Wave: customers by email or by the ``Odoo ref <externalId>`` marker
in their internal notes, products by name, sales taxes by abbreviation.
"""

from odoo import _, models

from ..lib.dates import format_wave_datetime as wave_datetime_str
from ..lib.dates import parse_wave_datetime as wave_datetime
from .wave_outbound import LOOKUP_SKEW, OutboundRetry

CUSTOMER_SELECTION = "customer { id name email modifiedAt }"
PRODUCT_SELECTION = "product { id name modifiedAt }"
TAX_SELECTION = "salesTax { id name abbreviation modifiedAt }"

FIND_CUSTOMERS = """
query OdooFindCustomers(
  $businessId: ID!, $email: String, $after: DateTime, $page: Int, $pageSize: Int
) {
  business(id: $businessId) {
    customers(
      email: $email, modifiedAtAfter: $after, page: $page, pageSize: $pageSize,
      sort: [CREATED_AT_DESC]
    ) {
      pageInfo { currentPage totalPages }
      edges { node { id name email internalNotes modifiedAt } }
    }
  }
}
"""
FIND_PRODUCTS = """
query OdooFindProducts($businessId: ID!, $after: DateTime, $page: Int, $pageSize: Int) {
  business(id: $businessId) {
    products(
      modifiedAtAfter: $after, page: $page, pageSize: $pageSize, sort: [CREATED_AT_DESC]
    ) {
      pageInfo { currentPage totalPages }
      edges { node { id name modifiedAt } }
    }
  }
}
"""
FIND_TAXES = """
query OdooFindSalesTaxes($businessId: ID!, $page: Int, $pageSize: Int) {
  business(id: $businessId) {
    salesTaxes(page: $page, pageSize: $pageSize) {
      pageInfo { currentPage totalPages }
      edges { node { id name abbreviation rate modifiedAt } }
    }
  }
}
"""


LOOKUP_PAGE_SIZE = 100


class WaveApi(models.Model):
    _inherit = "wave.api"

    def _outbound_find(self, client, query, variables, field):
        """All ``business.<field>`` nodes matching ``query``, page after page."""
        from ..lib import WaveAuthenticationError, WaveError, WaveRateLimitedError, WaveScopeError

        try:
            return list(
                client.iterate(query, variables, f"business.{field}", page_size=LOOKUP_PAGE_SIZE)
            )
        except (WaveRateLimitedError, WaveAuthenticationError, WaveScopeError):
            raise
        except WaveError as error:
            raise OutboundRetry(str(error)) from None

    # ------------------------------------------------------------------
    # Inputs
    # ------------------------------------------------------------------
    def _outbound_customer_input(self, partner, entry):
        vals = {
            "businessId": self.business_id,
            "name": partner.name,
            "internalNotes": _("Odoo ref %s", entry.external_id),
        }
        if partner.email:
            vals["email"] = partner.email
        if partner.phone:
            vals["phone"] = partner.phone
        if partner.street or partner.city or partner.zip:
            address = {
                "addressLine1": partner.street or None,
                "addressLine2": partner.street2 or None,
                "city": partner.city or None,
                "postalCode": partner.zip or None,
                "countryCode": partner.country_id.code or None,
            }
            vals["address"] = {key: value for key, value in address.items() if value}
        return vals

    def _outbound_product_input(self, product):
        vals = {
            "businessId": self.business_id,
            "name": product.display_name,
            "unitPrice": str(product.lst_price or 0.0),
        }
        if product.description_sale:
            vals["description"] = product.description_sale
        income = (
            product.property_account_income_id or product.categ_id.property_account_income_categ_id
        )
        mapping = self._outbound_account_map(income)
        if mapping and mapping.wave_account_subtype in ("INCOME", "OTHER_INCOME"):
            vals["incomeAccountId"] = mapping.wave_account_id
        return vals

    def _outbound_tax_input(self, tax):
        abbreviation = (tax.invoice_label or tax.name or "TAX").replace(" ", "")[:10]
        return {
            "businessId": self.business_id,
            "name": tax.name,
            "abbreviation": abbreviation,
            "rate": str(round(tax.amount / 100.0, 6)),
        }

    def _outbound_account_map(self, accounts):
        """``wave.account.map`` rows of Odoo ``accounts`` (first per account)."""
        if not accounts:
            return self.env["wave.account.map"]
        maps = self.env["wave.account.map"].search(
            [("connection_id", "=", self.id), ("account_id", "in", accounts.ids)], order="id"
        )
        if len(accounts) == 1:
            return maps[:1]
        return maps

    # ------------------------------------------------------------------
    # Ensuring
    # ------------------------------------------------------------------
    def _outbound_ensure_dependencies(
        self, client, partners, products, taxes, need_generic=False, patch=False
    ):
        """Create the missing Wave customers/products/taxes in one request.

        Returns ``{record: reason}`` for the records that could not be
        exported (they are quarantined; documents needing them wait).
        """
        self.ensure_one()
        failures = {}
        partners = partners.filtered(lambda p: p.wave_origin != "wave" or not p.wave_id)
        if patch:
            self._outbound_patch(client, partners.filtered("wave_id"), products.filtered("wave_id"))
        partners = partners.filtered(lambda p: not p.wave_id)
        products = products.filtered(lambda p: not p.wave_id)
        taxes = taxes.filtered(lambda t: not t.wave_id)
        if taxes and not self.allow_sales_tax_create:
            for tax in taxes:
                failures[tax] = _(
                    "The sales tax %(tax)s has no Wave sales tax: map it (Wave ID on the tax) "
                    "or allow creating sales taxes on the Wave connection.",
                    tax=tax.display_name,
                )
            taxes = taxes.browse()
        for tax in taxes.filtered(lambda t: t.amount_type != "percent"):
            failures[tax] = _(
                "The sales tax %(tax)s is not a percentage: Wave only knows percentage taxes.",
                tax=tax.display_name,
            )
        taxes = taxes.filtered(lambda t: t.amount_type == "percent")
        if taxes:
            taxes = self._outbound_match_taxes(client, taxes)
        specs = [
            (partners, "customer", "customerCreate", CUSTOMER_SELECTION, "customer"),
            (products, "product", "productCreate", PRODUCT_SELECTION, "product"),
            (taxes, "sales_tax", "salesTaxCreate", TAX_SELECTION, "salesTax"),
        ]
        generic = need_generic and not self.outbound_generic_product_wave_id
        entries = {}
        for records, kind, *_rest in specs:
            if records:
                for (record, _sub), entry in self._outbound_entries(records, kind).items():
                    entries[record] = entry
        if generic:
            (((_conn, _sub), generic_entry),) = self._outbound_entries(
                self, "product", {self: ["generic"]}
            ).items()
            entries[self] = generic_entry
        # Lost answers of earlier runs: look them up before sending anything.
        unresolved = [r for r, e in entries.items() if e.state in ("sent", "outcome_unknown")]
        if unresolved:
            self._outbound_resolve_dependencies(client, {r: entries[r] for r in unresolved})
        items, meta = [], {}
        for records, kind, name, selection, key in specs:
            for record in records:
                entry = entries[record]
                if entry.state == "confirmed":
                    continue
                if entry.state == "failed" and record.write_date > entry.write_date:
                    entry.write({"state": "pending"})  # fixed since Wave refused it: try again
                if entry.state == "failed":
                    failures[record] = entry.error_message or _("Refused by Wave")
                    continue
                if kind == "customer":
                    payload = self._outbound_customer_input(record, entry)
                elif kind == "product":
                    payload = self._outbound_product_input(record)
                else:
                    payload = self._outbound_tax_input(record)
                items.append((name, selection, key, entry, payload))
                meta[entry] = record
        if generic and entries[self].state not in ("confirmed", "failed"):
            payload = {
                "businessId": self.business_id,
                "name": self.outbound_generic_product_name,
                "unitPrice": "0",
            }
            items.append(("productCreate", PRODUCT_SELECTION, "product", entries[self], payload))
            meta[entries[self]] = self
        if items:
            self._outbound_send_dependencies(client, items, meta, failures)
        for record, entry in entries.items():
            if entry.state == "confirmed":
                self._outbound_bind_dependency(record, entry)
            elif record not in failures:
                failures[record] = entry.error_message or _("Not confirmed by Wave yet.")
        return failures

    def _outbound_send_dependencies(self, client, items, meta, failures):
        """One aliased request for all creates (different mutations mix fine)."""
        self._outbound_mark_sent(
            [(entry, payload) for _n, _s, _k, entry, payload in items], "create"
        )
        batch = [
            (f"d{i}", name, payload, selection)
            for i, (name, selection, _k, _e, payload) in enumerate(items)
        ]
        from ..lib import (
            WaveError,
            WaveOutcomeUnknownError,
            WaveRateLimitedError,
            WaveValidationError,
        )

        try:
            answer = client.mutate_many(batch, operation_name="OdooCreateDependencies")
        except WaveRateLimitedError:
            for *_x, entry, _p in items:
                entry.write({"state": "pending"})
            self._outbound_commit()
            raise
        except WaveOutcomeUnknownError as error:
            answer = {f"d{i}": error for i in range(len(items))}
        except WaveValidationError as error:
            answer = {f"d{i}": error for i in range(len(items))}
        except WaveError as error:
            for *_x, entry, _p in items:
                entry.write({"state": "pending", "error_message": str(error)})
            self._outbound_commit()
            raise OutboundRetry(str(error)) from None
        unknown = {}
        for i, (_name, _sel, key, entry, payload) in enumerate(items):
            record = meta[entry]
            value = answer.get(f"d{i}")
            with self.env.cr.savepoint():
                if isinstance(value, WaveValidationError):
                    self._outbound_fail(entry, record, value, payload)
                    failures[record] = entry.error_message
                elif isinstance(value, WaveError):
                    self._outbound_mark_unknown(entry, value)
                    unknown[record] = entry
                else:
                    obj = (value or {}).get(key) or {}
                    self._outbound_mark_confirmed(entry, obj.get("id"))
                    self._outbound_bind_dependency(record, entry, obj)
        self._outbound_commit()
        if unknown:
            self._outbound_resolve_dependencies(client, unknown)

    def _outbound_match_taxes(self, client, taxes):
        """Bind taxes Wave already has (same abbreviation and rate); return the others.

        Wave refuses a second sales tax with the same abbreviation, and a tax
        created by an earlier export whose binding was lost must not be created twice.
        """
        from decimal import Decimal

        found = self._outbound_find(
            client, FIND_TAXES, {"businessId": self.business_id}, "salesTaxes"
        )
        nodes = {n["abbreviation"].lower(): n for n in found}
        rate_of = {n["id"]: Decimal(str(n["rate"])) for n in nodes.values()}
        missing = taxes.browse()
        for tax in taxes:
            abbreviation = self._outbound_tax_input(tax)["abbreviation"].lower()
            node = nodes.get(abbreviation)
            wanted = Decimal(str(round(tax.amount / 100.0, 6)))
            if node and rate_of.get(node["id"]) == wanted:
                # sudo: binding ids are written by the sync.
                tax.sudo().write({"wave_id": node["id"], "wave_origin": "odoo"})
            else:
                missing |= tax
        return missing

    def _outbound_bind_dependency(self, record, entry, obj=None):
        if record == self:
            if self.outbound_generic_product_wave_id != entry.wave_id:
                self.sudo().outbound_generic_product_wave_id = entry.wave_id  # sudo: own field
            return
        vals = {"wave_id": entry.wave_id, "wave_origin": "odoo"}
        if obj and obj.get("modifiedAt"):
            vals["wave_modified_at"] = wave_datetime(obj["modifiedAt"])
        if record._name == "product.product":
            vals["wave_company_id"] = self.company_id.id
        if record.wave_id != entry.wave_id:
            # sudo: binding ids are written by the sync whatever the user's rights on contacts
            record.sudo().write(vals)
            self._outbound_resolve_quarantine(record)

    def _outbound_resolve_dependencies(self, client, unresolved):
        """Search Wave for objects whose create answer was lost."""
        oldest = min(
            (e.sent_at or e.create_date for e in unresolved.values()),
            default=None,
        )
        after = wave_datetime_str(oldest - LOOKUP_SKEW) if oldest else None
        found = {}
        kinds = {e.kind for e in unresolved.values()}
        if "customer" in kinds:
            for record, entry in unresolved.items():
                if entry.kind != "customer":
                    continue
                variables = {"businessId": self.business_id, "after": after}
                if record.email:
                    variables["email"] = record.email
                for node in self._outbound_find(client, FIND_CUSTOMERS, variables, "customers"):
                    if entry.external_id in (node.get("internalNotes") or ""):
                        found[record] = node
                        break
        if "product" in kinds:
            nodes = self._outbound_find(
                client, FIND_PRODUCTS, {"businessId": self.business_id, "after": after}, "products"
            )
            for record, entry in unresolved.items():
                if entry.kind != "product":
                    continue
                name = self.outbound_generic_product_name if record == self else record.display_name
                match = [n for n in nodes if n["name"] == name]
                if match:
                    found[record] = match[0]
        if "sales_tax" in kinds:
            nodes = self._outbound_find(
                client, FIND_TAXES, {"businessId": self.business_id}, "salesTaxes"
            )
            for record, entry in unresolved.items():
                if entry.kind != "sales_tax":
                    continue
                abbreviation = (entry.request_summary or {}).get("abbreviation", "").lower()
                match = [n for n in nodes if n["abbreviation"].lower() == abbreviation]
                if match:
                    found[record] = match[0]
        for record, entry in unresolved.items():
            with self.env.cr.savepoint():
                if record in found:
                    self._outbound_mark_confirmed(entry, found[record]["id"], "lookup")
                    self._outbound_bind_dependency(record, entry, found[record])
                else:
                    # Searched and not there: it was never created, send it again.
                    entry.write({"state": "pending"})
        self._outbound_commit()

    # ------------------------------------------------------------------
    # Patches / archive (idempotent: no ledger row needed)
    # ------------------------------------------------------------------
    def _outbound_patch(self, client, partners, products):
        from ..lib import WaveError, WaveValidationError

        batch, targets = [], []
        for partner in partners.filtered(lambda p: p.wave_origin == "odoo"):
            payload = {"id": partner.wave_id, "name": partner.name}
            if partner.email:
                payload["email"] = partner.email
            if partner.phone:
                payload["phone"] = partner.phone
            batch.append((f"p{len(batch)}", "customerPatch", payload, "customer { id modifiedAt }"))
            targets.append((partner, payload, "customer"))
        for product in products.filtered(lambda p: p.wave_origin == "odoo"):
            if not product.active:
                payload = {"id": product.wave_id}
                name = "productArchive"
            else:
                payload = {
                    "id": product.wave_id,
                    "name": product.display_name,
                    "unitPrice": str(product.lst_price or 0.0),
                }
                name = "productPatch"
            batch.append((f"p{len(batch)}", name, payload, "product { id modifiedAt }"))
            targets.append((product, payload, "product"))
        if not batch:
            return
        try:
            answer = client.mutate_many(batch, operation_name="OdooPatchDependencies")
        except WaveValidationError as error:
            answer = {alias: error for alias, *_x in batch}
        except WaveError as error:
            if type(error).__name__ == "WaveRateLimitedError":
                raise
            raise OutboundRetry(str(error)) from None
        for (alias, *_x), (record, payload, key) in zip(batch, targets, strict=True):
            value = answer.get(alias)
            with self.env.cr.savepoint():
                if isinstance(value, WaveError):
                    self._outbound_quarantine(
                        record, _("Wave refused the update:\n%s", value), payload
                    )
                else:
                    obj = (value or {}).get(key) or {}
                    record.sudo().write(  # sudo: sync bookkeeping field
                        {"wave_modified_at": wave_datetime(obj.get("modifiedAt"))}
                    )
