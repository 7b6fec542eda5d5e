# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound reference data: chart of accounts, sales taxes and products.

The chart of accounts has no ``modifiedAt`` filter at Wave: it is listed in
full (one request for a normal chart) and changes are detected with each
account's ``sequence`` (Wave's revision counter).
"""

import hashlib
from decimal import Decimal

from odoo import Command, api, fields, models, tools

from ..lib.dates import parse_wave_datetime as wave_datetime

# Wave account subtype -> Odoo account type (Wave's subtype is more precise).
SUBTYPE_ACCOUNT_TYPE = {
    "CASH_AND_BANK": "asset_cash",
    "MONEY_IN_TRANSIT": "asset_current",
    "INVENTORY": "asset_current",
    "OTHER_CURRENT_ASSETS": "asset_current",
    "VENDOR_PREPAYMENTS_AND_CREDITS": "asset_prepayments",
    "RECEIVABLE": "asset_receivable",
    "RECEIVABLE_INVOICES": "asset_receivable",
    "RECEIVABLE_OTHER": "asset_current",
    "OTHER_LONG_TERM_ASSETS": "asset_non_current",
    "PROPERTY_PLANT_EQUIPMENT": "asset_fixed",
    "DEPRECIATION_AND_AMORTIZATION": "asset_fixed",
    "TRANSFERS": "asset_current",
    "UNKNOWN_ACCOUNT": "asset_current",
    "CREDIT_CARD": "liability_credit_card",
    "LOANS": "liability_non_current",
    "OTHER_CURRENT_LIABILITY": "liability_current",
    "OTHER_LONG_TERM_LIABILITY": "liability_non_current",
    "PAYABLE": "liability_payable",
    "PAYABLE_BILLS": "liability_payable",
    "PAYABLE_OTHER": "liability_current",
    "SALES_TAX": "liability_current",
    "DUE_FOR_PAYROLL": "liability_current",
    "DUE_TO_YOU_AND_OTHER_OWNERS": "liability_current",
    "CUSTOMER_PREPAYMENTS_AND_CREDITS": "liability_current",
    "SYSTEM_CUSTOMER_CREDITS": "liability_current",
    "NON_RETAINED_EARNINGS": "equity",
    "RETAINED_EARNINGS": "equity_unaffected",
    "INCOME": "income",
    "OTHER_INCOME": "income_other",
    "DISCOUNTS": "income",
    "GAIN_ON_FOREIGN_EXCHANGE": "income_other",
    "UNCATEGORIZED_INCOME": "income",
    "EXPENSE": "expense",
    "COST_OF_GOODS_SOLD": "expense_direct_cost",
    "PAYMENT_PROCESSING_FEES": "expense",
    "PAYROLL_EXPENSES": "expense",
    "LOSS_ON_FOREIGN_EXCHANGE": "expense",
    "UNCATEGORIZED_EXPENSE": "expense",
}
TYPE_ACCOUNT_TYPE = {
    "ASSET": "asset_current",
    "LIABILITY": "liability_current",
    "EQUITY": "equity",
    "INCOME": "income",
    "EXPENSE": "expense",
}
# Wave accounts payments can be received on: they get an Odoo journal.
PAYMENT_SUBTYPES = {"CASH_AND_BANK", "MONEY_IN_TRANSIT", "CREDIT_CARD"}
# Name similarity (0-100) above which an Odoo account of the right type is suggested.
ACCOUNT_NAME_SCORE = 80

ACCOUNT_FIELDS = """
    id name description displayId isArchived sequence currency { code }
    type { value } subtype { value }
"""
ACCOUNTS_QUERY = (
    "query WaveAccounts($businessId: ID!, $page: Int!, $pageSize: Int!) {"
    " business(id: $businessId) { accounts(page: $page, pageSize: $pageSize) {"
    " pageInfo { currentPage totalPages totalCount } edges { node { %s } } } } }" % ACCOUNT_FIELDS
)
SALES_TAX_FIELDS = "id name abbreviation rate isArchived isCompound modifiedAt"
PRODUCT_FIELDS = """
    id name description unitPrice isArchived isSold isBought modifiedAt
    defaultSalesTaxes { %s } incomeAccount { %s }
""" % (SALES_TAX_FIELDS, ACCOUNT_FIELDS)


class WaveAccountMap(models.Model):
    _inherit = "wave.account.map"

    # Map look-ups are cached; any change of a map clears the cache.
    @api.model
    @tools.ormcache("connection_id")
    def _cached_map(self, connection_id):
        """``{wave_account_id: (account_id, journal_id)}`` of one connection (ids only)."""
        maps = self.search_fetch(
            [("connection_id", "=", connection_id)],
            ["wave_account_id", "account_id", "journal_id"],
        )
        return {m.wave_account_id: (m.account_id.id, m.journal_id.id) for m in maps}

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    def _account_for(self, connection, wave_account_id):
        """The Odoo account of a Wave account id, or an empty recordset when unmapped."""
        account_id = self._cached_map(connection.id).get(wave_account_id, (False, False))[0]
        return self.env["account.account"].browse(account_id)


class WaveApi(models.Model):
    _inherit = "wave.api"

    # ------------------------------------------------------------------
    # Chart of accounts
    # ------------------------------------------------------------------
    def _sync_accounts(self, job=None):
        """List Wave's chart of accounts and update ``wave.account.map``.

        Returns the number of maps created or changed. Nothing is written when
        no account's ``sequence`` changed since the last listing.
        """
        self.ensure_one()
        client = self._get_client(priority="bulk")
        nodes = list(
            client.iterate(
                ACCOUNTS_QUERY,
                {"businessId": self.business_id},
                "business.accounts",
                page_size=200,
            )
        )
        if job:
            job.requests_count += max(1, -(-len(nodes) // 200))
        cursor = self.env["wave.import.cursor"]._get(self, "accounts")
        signature = hashlib.sha1(
            ";".join(sorted(f"{n['id']}:{n['sequence']}" for n in nodes)).encode()
        ).hexdigest()
        first_listing = not cursor.last_poll
        cursor.write({"last_poll": fields.Datetime.now(), "known_total": len(nodes)})
        if cursor.signature == signature:
            return 0
        changed = self._upsert_account_maps(nodes, auto_map=first_listing)
        cursor.signature = signature
        return changed

    def _upsert_account_maps(self, nodes, auto_map=False):
        """Create or update the maps of Wave account ``nodes`` (dicts of ACCOUNT_FIELDS).

        New maps get a suggestion. ``auto_map`` (the first listing of a
        connection) maps each account to its suggestion right away; accounts
        discovered later wait for review on the suspense account, or get an
        Odoo account created for them (``unmapped_account_policy = create``).
        """
        self.ensure_one()
        Map = self.env["wave.account.map"]
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        existing = {
            m.wave_account_id: m
            for m in Map.search(
                [("connection_id", "=", self.id), ("wave_account_id", "in", list(nodes))]
            )
        }
        changed = 0
        new_vals = []
        for wave_id, node in nodes.items():
            vals = self._account_map_vals(node)
            mapping = existing.get(wave_id)
            if mapping:
                if mapping.wave_sequence != vals["wave_sequence"] or (
                    mapping.wave_account_name != vals["wave_account_name"]
                ):
                    mapping.write(vals)
                    changed += 1
                continue
            suggestion, journal = self._suggest_account(node)
            vals.update(
                connection_id=self.id,
                suggested_account_id=suggestion.id,
                journal_id=journal.id,
            )
            if auto_map and suggestion:
                vals["account_id"] = suggestion.id
            elif self.unmapped_account_policy == "create":
                vals["account_id"] = self._create_account_for(node).id
            new_vals.append(vals)
        if new_vals:
            created = Map.create(new_vals)
            changed += len(created)
            self.env["wave.audit.log"]._log_many(
                created,
                "create",
                lambda m: {
                    "account": m.account_id.display_name or False,
                    "suggestion": m.suggested_account_id.display_name or False,
                },
            )
        return changed

    @api.model
    def _account_map_vals(self, node):
        subtype = (node.get("subtype") or {}).get("value")
        return {
            "wave_account_id": node["id"],
            "wave_account_name": node.get("name") or node["id"],
            "wave_account_type": (node.get("type") or {}).get("value") or False,
            "wave_account_subtype": subtype or False,
            "wave_account_code": node.get("displayId") or False,
            "wave_currency": (node.get("currency") or {}).get("code") or False,
            "wave_sequence": node.get("sequence") or 0,
            "wave_archived": bool(node.get("isArchived")),
        }

    def _odoo_account_type(self, node):
        subtype = (node.get("subtype") or {}).get("value")
        return SUBTYPE_ACCOUNT_TYPE.get(subtype) or TYPE_ACCOUNT_TYPE.get(
            (node.get("type") or {}).get("value"), "asset_current"
        )

    def _suggest_account(self, node):
        """Best Odoo account (and journal, for payment accounts) for a Wave account.

        Accounts of the matching type are compared by name (rapidfuzz WRatio);
        without a close name the company's default account for that role wins.
        """
        from rapidfuzz import fuzz, process

        company = self.company_id
        Account = self.env["account.account"].with_company(company)
        account_type = self._odoo_account_type(node)
        subtype = (node.get("subtype") or {}).get("value")
        candidates = Account.search(
            [
                *Account._check_company_domain(company),
                ("account_type", "=", account_type),
                ("deprecated", "=", False),
            ]
        )
        journal = self.env["account.journal"]
        if subtype in PAYMENT_SUBTYPES:
            journal = self._suggest_journal(node)
        suggestion = Account
        if candidates:
            choices = {acc.id: acc.name for acc in candidates}
            best = process.extractOne(
                (node.get("name") or "").lower(),
                {k: v.lower() for k, v in choices.items()},
                scorer=fuzz.WRatio,
                score_cutoff=ACCOUNT_NAME_SCORE,
            )
            if best:
                suggestion = Account.browse(best[2])
        if not suggestion:
            suggestion = self._default_account_for(subtype, journal) or candidates[:1]
        return suggestion, journal

    def _default_account_for(self, subtype, journal):
        company = self.company_id
        Journal = self.env["account.journal"]
        if subtype in PAYMENT_SUBTYPES and journal:
            return journal.default_account_id
        if subtype in ("INCOME", "DISCOUNTS", "UNCATEGORIZED_INCOME"):
            sale = Journal.search(
                [*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1
            )
            return sale.default_account_id
        if subtype in ("RECEIVABLE", "RECEIVABLE_INVOICES"):
            return self.env["res.partner"].with_company(company).property_account_receivable_id
        if subtype == "SALES_TAX":
            tax = company.account_sale_tax_id
            return tax.invoice_repartition_line_ids.filtered("account_id")[:1].account_id
        if subtype in ("EXPENSE", "UNCATEGORIZED_EXPENSE"):
            purchase = Journal.search(
                [*Journal._check_company_domain(company), ("type", "=", "purchase")], limit=1
            )
            return purchase.default_account_id
        return self.env["account.account"]

    def _suggest_journal(self, node):
        company = self.company_id
        Journal = self.env["account.journal"]
        journal_type = "cash" if "cash" in (node.get("name") or "").lower() else "bank"
        if (node.get("subtype") or {}).get("value") == "CREDIT_CARD":
            journal_type = "credit"
        domain = Journal._check_company_domain(company)
        return Journal.search([*domain, ("type", "=", journal_type)], limit=1) or Journal.search(
            [*domain, ("type", "=", "bank")], limit=1
        )

    def _create_account_for(self, node):
        """Create an Odoo account for a Wave account (policy ``create``)."""
        Account = self.env["account.account"].with_company(self.company_id)
        prefix = {"asset": "1", "liability": "2", "equity": "3", "income": "4", "expense": "6"}
        account_type = self._odoo_account_type(node)
        code_prefix = "W" + prefix.get(account_type.split("_")[0], "9")
        code = Account._search_new_account_code(code_prefix)
        return Account.create(
            {
                "name": node.get("name") or node["id"],
                "code": code,
                "account_type": account_type,
                "company_ids": [Command.set(self.company_id.ids)],
                "reconcile": account_type in ("asset_receivable", "liability_payable"),
            }
        )

    def _get_suspense_account(self):
        """The connection's suspense account; a "Wave Suspense" account is made on demand."""
        self.ensure_one()
        if self.suspense_account_id:
            return self.suspense_account_id
        Account = self.env["account.account"].with_company(self.company_id)
        account = Account.search(
            [*Account._check_company_domain(self.company_id), ("name", "=", "Wave Suspense")],
            limit=1,
        )
        if not account:
            account = Account.create(
                {
                    "name": "Wave Suspense",
                    "code": Account._search_new_account_code("WSUSP"),
                    "account_type": "asset_current",
                    "company_ids": [Command.set(self.company_id.ids)],
                }
            )
        # sudo: the suspense account is configuration set by the sync itself.
        self.sudo().suspense_account_id = account
        return account

    def _resolve_accounts(self, nodes):
        """``{wave_account_id: account}`` for Wave account ``nodes``; unmapped -> empty.

        Unknown Wave accounts (first seen on an invoice line) get a map first.
        """
        self.ensure_one()
        Map = self.env["wave.account.map"]
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        cached = Map._cached_map(self.id)
        unknown = [n for wave_id, n in nodes.items() if wave_id not in cached]
        if unknown:
            cursor = self.env["wave.import.cursor"]._get(self, "accounts")
            self._upsert_account_maps(unknown, auto_map=not cursor.last_poll)
            cached = Map._cached_map(self.id)
        Account = self.env["account.account"]
        return {wave_id: Account.browse(cached.get(wave_id, (False,))[0]) for wave_id in nodes}

    # ------------------------------------------------------------------
    # Sales taxes
    # ------------------------------------------------------------------
    def _resolve_taxes(self, nodes):
        """``{wave_sales_tax_id: account.tax}``: by Wave id, then name and rate, else created."""
        self.ensure_one()
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        company = self.company_id
        Tax = self.env["account.tax"].with_context(active_test=False)
        bound = Tax.search([("wave_id", "in", list(nodes)), ("company_id", "=", company.id)])
        result = {tax.wave_id: tax for tax in bound}
        missing = {k: v for k, v in nodes.items() if k not in result}
        if not missing:
            return result
        sale_taxes = Tax.search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("wave_id", "=", False),
            ]
        )
        by_name_rate = {}
        for tax in sale_taxes:
            by_name_rate.setdefault((tax.name.strip().lower(), round(tax.amount, 4)), tax)
        to_create = []
        for wave_id, node in missing.items():
            rate = float(Decimal(str(node.get("rate") or 0)) * 100)
            key = ((node.get("name") or "").strip().lower(), round(rate, 4))
            tax = by_name_rate.get(key)
            if tax:
                tax.write(
                    {"wave_id": wave_id, "wave_modified_at": wave_datetime(node.get("modifiedAt"))}
                )
                result[wave_id] = tax
            else:
                to_create.append((wave_id, node, rate))
        if to_create:
            template = company.account_sale_tax_id
            tax_account = template.invoice_repartition_line_ids.filtered("account_id")[
                :1
            ].account_id
            vals_list = [
                self._tax_vals(wave_id, node, rate, tax_account, template)
                for wave_id, node, rate in to_create
            ]
            created = Tax.create(vals_list)
            result.update({tax.wave_id: tax for tax in created})
            self.env["wave.audit.log"]._log_many(
                created, "create", lambda t: {"name": t.name, "amount": t.amount}
            )
        return result

    def _tax_vals(self, wave_id, node, rate, tax_account, template):
        repartition = [
            Command.create({"repartition_type": "base"}),
            Command.create({"repartition_type": "tax", "account_id": tax_account.id}),
        ]
        name = node.get("name") or node.get("abbreviation") or wave_id
        return {
            "name": f"{name} ({rate:g}%)" if self._tax_name_taken(name) else name,
            "description": node.get("abbreviation") or False,
            "amount": rate,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": self.company_id.id,
            "tax_group_id": template.tax_group_id.id or False,
            "country_id": template.country_id.id or self.company_id.account_fiscal_country_id.id,
            "invoice_repartition_line_ids": repartition,
            "refund_repartition_line_ids": list(repartition),
            "wave_id": wave_id,
            "wave_origin": "wave",
            "wave_modified_at": wave_datetime(node.get("modifiedAt")),
        }

    def _tax_name_taken(self, name):
        return bool(
            self.env["account.tax"]
            .with_context(active_test=False)
            .search_count(
                [
                    ("company_id", "=", self.company_id.id),
                    ("name", "=", name),
                    ("type_tax_use", "=", "sale"),
                ],
                limit=1,
            )
        )

    # ------------------------------------------------------------------
    # Products
    # ------------------------------------------------------------------
    def _resolve_products(self, nodes, taxes=None):
        """``{wave_product_id: product.product}``: by Wave id, then exact name, else created."""
        self.ensure_one()
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        company = self.company_id
        Product = self.env["product.product"].with_context(active_test=False)
        bound = Product.search(
            [("wave_id", "in", list(nodes)), ("wave_company_id", "=", company.id)]
        )
        result = {p.wave_id: p for p in bound}
        for product in bound:
            node = nodes[product.wave_id]
            modified = wave_datetime(node.get("modifiedAt"))
            if modified and product.wave_modified_at and modified > product.wave_modified_at:
                product.write(
                    {
                        "name": node.get("name") or product.name,
                        "list_price": float(node.get("unitPrice") or 0),
                        "wave_modified_at": modified,
                    }
                )
        missing = {k: v for k, v in nodes.items() if k not in result}
        if not missing:
            return result
        names = list({(n.get("name") or "").strip() for n in missing.values()})
        by_name = {}
        for product in Product.search(
            [
                ("name", "in", names),
                ("wave_id", "=", False),
                ("company_id", "in", [False, company.id]),
            ]
        ):
            by_name.setdefault(product.name.strip(), product)
        tax_nodes = [t for n in missing.values() for t in n.get("defaultSalesTaxes") or []]
        taxes = dict(taxes or {})
        taxes.update(self._resolve_taxes([t for t in tax_nodes if t["id"] not in taxes]))
        vals_list = []
        for wave_id, node in missing.items():
            name = (node.get("name") or "").strip() or wave_id
            binding = {
                "wave_id": wave_id,
                "wave_company_id": company.id,
                "wave_modified_at": wave_datetime(node.get("modifiedAt")),
            }
            product = by_name.get(name)
            if product and not product.wave_id:
                product.write(binding)
                result[wave_id] = product
                continue
            tax_ids = [
                taxes[t["id"]].id for t in node.get("defaultSalesTaxes") or [] if t["id"] in taxes
            ]
            vals_list.append(
                dict(
                    binding,
                    name=name,
                    type="service",
                    list_price=float(node.get("unitPrice") or 0),
                    description_sale=node.get("description") or False,
                    sale_ok=True,
                    purchase_ok=bool(node.get("isBought")),
                    taxes_id=[Command.set(tax_ids)],
                    wave_origin="wave",
                )
            )
        if vals_list:
            created = Product.create(vals_list)
            result.update({p.wave_id: p for p in created})
            self.env["wave.audit.log"]._log_many(
                created, "create", lambda p: {"name": p.name, "list_price": p.list_price}
            )
        return result
