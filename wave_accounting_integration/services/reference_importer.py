# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound reference data: Wave's chart of accounts, sales taxes and products.

The chart of accounts has no ``modifiedAt`` filter at Wave: it is listed in
full (one request for a normal chart) and changes are detected with each
account's ``sequence`` (Wave's revision counter). Sales taxes and products are
bound to Odoo records by Wave id, else matched (name and rate / exact name),
else created.
"""

import hashlib

from odoo import api, fields, models

from ..graphql.inbound import ACCOUNTS_QUERY
from ..lib.answers import is_last_page
from ..lib.dates import parse_wave_datetime
from ..lib.graphql import connection_nodes
from ..lib.wave_versions import is_newer_wave_version
from ..mappers.reference_inbound import (
    ACCOUNT_CODE_PREFIX,
    PAYMENT_SUBTYPES,
    account_map_vals,
    account_subtype,
    new_account_vals,
    new_product_vals,
    new_tax_vals,
    odoo_account_type,
    product_binding_vals,
    product_update_vals,
    tax_compound_vals,
    tax_match_key,
    tax_rate_percent,
)
from ..models.wave_mixin import ConcurrentRowsError, claim_new_rows

ACCOUNTS_PAGE_SIZE = 200
# Name similarity (0-100) above which an Odoo account of the right type is suggested.
ACCOUNT_NAME_SCORE = 80
SUSPENSE_ACCOUNT_NAME = "Wave Suspense"


class WaveReferenceImporter(models.AbstractModel):
    _name = "wave.reference.importer"
    _description = "Wave Import of Accounts, Sales Taxes and Products"

    # ------------------------------------------------------------------
    # Chart of accounts
    # ------------------------------------------------------------------
    @api.model
    def _sync_accounts(self, connection, job=None, first_page=None):
        """List Wave's chart of accounts and update ``wave.account.map``.

        ``first_page``: the answer's ``accounts`` connection of page 1 (of
        ``ACCOUNTS_PAGE_SIZE``) when another request read it already (the historical
        import's plan, ``import_plan_query``); the listing goes on from page 2 if
        Wave has more.

        Returns the number of maps created or changed. Nothing is written when
        no account's ``sequence`` changed since the last listing.
        """
        nodes, start_page = [], 1
        if first_page is not None:
            nodes = connection_nodes(first_page)
            start_page = 2
            if is_last_page(first_page.get("pageInfo") or {}, 1, len(nodes)):
                start_page = None
        if start_page:
            client = connection._get_client(priority="bulk")
            nodes += client.iterate(
                ACCOUNTS_QUERY,
                {"businessId": connection.business_id},
                "business.accounts",
                page_size=ACCOUNTS_PAGE_SIZE,
                start_page=start_page,
            )
        if job:
            job.requests_count += max(1, -(-len(nodes) // ACCOUNTS_PAGE_SIZE))
        cursor = self.env["wave.import.cursor"]._get(connection, "accounts")
        signature = hashlib.sha1(
            ";".join(sorted(f"{n['id']}:{n['sequence']}" for n in nodes)).encode()
        ).hexdigest()
        first_listing = not cursor.last_poll
        cursor.write({"last_poll": fields.Datetime.now(), "known_total": len(nodes)})
        if cursor.signature == signature:
            return 0
        changed = self._upsert_account_maps(connection, nodes, auto_map=first_listing)
        cursor.signature = signature
        return changed

    @api.model
    def _upsert_account_maps(self, connection, nodes, auto_map=False):
        """Create or update the maps of Wave account ``nodes``.

        New maps get a suggestion. ``auto_map`` (the first listing of a
        connection) maps each account to its suggestion right away; accounts
        discovered later wait for review on the suspense account, or get an
        Odoo account created for them (``unmapped_account_policy = create``).
        """
        Map = self.env["wave.account.map"]
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        existing = {
            m.wave_account_id: m
            for m in Map.search(
                [("connection_id", "=", connection.id), ("wave_account_id", "in", list(nodes))]
            )
        }
        changed = 0
        new_ids = []
        for wave_id, node in nodes.items():
            vals = account_map_vals(node)
            mapping = existing.get(wave_id)
            if not mapping:
                new_ids.append(wave_id)
            elif (
                mapping.wave_sequence != vals["wave_sequence"]
                or mapping.wave_account_name != vals["wave_account_name"]
                or mapping.wave_archived != vals["wave_archived"]
            ):
                mapping.write(vals)
                changed += 1
        # Another job may list or discover the same accounts at this moment: the maps
        # it created are not created again (see claim_new_rows).
        created, _taken = claim_new_rows(
            Map,
            "connection_id",
            connection.id,
            "wave_account_id",
            new_ids,
            lambda wave_id: self._new_account_map_vals(
                connection, nodes[wave_id], account_map_vals(nodes[wave_id]), auto_map
            ),
        )
        if created:
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
    def _new_account_map_vals(self, connection, node, vals, auto_map):
        suggestion, journal = self._suggest_account(connection, node)
        vals = dict(
            vals,
            connection_id=connection.id,
            suggested_account_id=suggestion.id,
            journal_id=journal.id,
        )
        if auto_map and suggestion:
            vals["account_id"] = suggestion.id
        elif connection.unmapped_account_policy == "create":
            vals["account_id"] = self._create_account_for(connection, node).id
        return vals

    @api.model
    def _suggest_account(self, connection, node):
        """Best Odoo account (and journal, for payment accounts) for a Wave account.

        Accounts of the matching type are compared by name (rapidfuzz WRatio);
        without a close name the company's default account for that role wins.
        """
        from rapidfuzz import fuzz, process

        company = connection.company_id
        Account = self.env["account.account"].with_company(company)
        subtype = account_subtype(node)
        candidates = Account.search(
            [
                *Account._check_company_domain(company),
                ("account_type", "=", odoo_account_type(node)),
                ("deprecated", "=", False),
            ]
        )
        journal = self.env["account.journal"]
        if subtype in PAYMENT_SUBTYPES:
            journal = self._suggest_journal(connection, node)
        suggestion = Account
        if candidates:
            best = process.extractOne(
                (node.get("name") or "").lower(),
                {acc.id: acc.name.lower() for acc in candidates},
                scorer=fuzz.WRatio,
                score_cutoff=ACCOUNT_NAME_SCORE,
            )
            if best:
                suggestion = Account.browse(best[2])
        if not suggestion:
            suggestion = self._default_account_for(connection, subtype, journal) or candidates[:1]
        return suggestion, journal

    @api.model
    def _default_account_for(self, connection, subtype, journal):
        company = connection.company_id
        if subtype in PAYMENT_SUBTYPES and journal:
            return journal.default_account_id
        if subtype in ("INCOME", "DISCOUNTS", "UNCATEGORIZED_INCOME"):
            return self._company_journal(company, "sale").default_account_id
        if subtype in ("RECEIVABLE", "RECEIVABLE_INVOICES"):
            return self.env["res.partner"].with_company(company).property_account_receivable_id
        if subtype == "SALES_TAX":
            tax = company.account_sale_tax_id
            return tax.invoice_repartition_line_ids.filtered("account_id")[:1].account_id
        if subtype in ("EXPENSE", "UNCATEGORIZED_EXPENSE"):
            return self._company_journal(company, "purchase").default_account_id
        return self.env["account.account"]

    @api.model
    def _company_journal(self, company, journal_type):
        Journal = self.env["account.journal"]
        return Journal.search(
            [*Journal._check_company_domain(company), ("type", "=", journal_type)], limit=1
        )

    @api.model
    def _suggest_journal(self, connection, node):
        company = connection.company_id
        journal_type = "cash" if "cash" in (node.get("name") or "").lower() else "bank"
        if account_subtype(node) == "CREDIT_CARD":
            journal_type = "credit"
        return self._company_journal(company, journal_type) or self._company_journal(
            company, "bank"
        )

    @api.model
    def _create_account_for(self, connection, node):
        """Create an Odoo account for a Wave account (policy ``create``)."""
        Account = self.env["account.account"].with_company(connection.company_id)
        kind = odoo_account_type(node).split("_")[0]
        code = Account._search_new_account_code("W" + ACCOUNT_CODE_PREFIX.get(kind, "9"))
        return Account.create(new_account_vals(node, code, connection.company_id))

    @api.model
    def _suspense_account(self, connection):
        """The connection's suspense account; a "Wave Suspense" account is made on demand."""
        if connection.suspense_account_id:
            return connection.suspense_account_id
        company = connection.company_id
        Account = self.env["account.account"].with_company(company)
        account = Account.search(
            [*Account._check_company_domain(company), ("name", "=", SUSPENSE_ACCOUNT_NAME)],
            limit=1,
        )
        if not account:
            account = Account.create(
                {
                    "name": SUSPENSE_ACCOUNT_NAME,
                    # cache=set(): "WSUSP1" itself when free (the default starts after it,
                    # and a code without digits becomes "WSUSP.copy").
                    "code": Account._search_new_account_code("WSUSP1", cache=set()),
                    "account_type": "asset_current",
                    "company_ids": [fields.Command.set(company.ids)],
                }
            )
        # sudo: the suspense account is configuration set by the sync itself, for the
        # connection's own company (the account was searched/created in that company).
        connection.sudo().suspense_account_id = account
        return account

    @api.model
    def _resolve_accounts(self, connection, nodes):
        """``{wave_account_id: account}`` for Wave account ``nodes``; unmapped -> empty.

        Unknown Wave accounts (first seen on an invoice line) get a map first.
        """
        Map = self.env["wave.account.map"]
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        cached = Map._cached_map(connection.id)
        unknown = [n for wave_id, n in nodes.items() if wave_id not in cached]
        if unknown:
            cursor = self.env["wave.import.cursor"]._get(connection, "accounts")
            self._upsert_account_maps(connection, unknown, auto_map=not cursor.last_poll)
            cached = Map._cached_map(connection.id)
            if any(n["id"] not in cached for n in unknown):
                # Another job created these maps after this one began: its next run sees
                # them (the map cached from this transaction's snapshot is dropped).
                self.env.registry.clear_cache()
                raise ConcurrentRowsError(
                    self.env._("Another job is importing the same Wave accounts; retrying shortly.")
                )
        Account = self.env["account.account"]
        return {wave_id: Account.browse(cached.get(wave_id, (False,))[0]) for wave_id in nodes}

    # ------------------------------------------------------------------
    # Sales taxes
    # ------------------------------------------------------------------
    @api.model
    def _resolve_taxes(self, connection, nodes):
        """``{wave_sales_tax_id: account.tax}``: by Wave id, then name and rate, else created."""
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        company = connection.company_id
        Tax = self.env["account.tax"].with_context(active_test=False)
        bound = Tax.search([("wave_id", "in", list(nodes)), ("company_id", "=", company.id)])
        result = {tax.wave_id: tax for tax in bound}
        self._apply_compound_flags(bound, nodes)
        missing = {k: v for k, v in nodes.items() if k not in result}
        if not missing:
            return result
        by_key = {}
        for tax in Tax.search(
            [
                ("company_id", "=", company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("wave_id", "=", False),
            ]
        ):
            by_key.setdefault(tax_match_key(tax.name, tax.amount), tax)
        to_create = []
        for wave_id, node in missing.items():
            tax = by_key.get(tax_match_key(node.get("name"), tax_rate_percent(node)))
            if tax:
                tax.write(
                    {
                        "wave_id": wave_id,
                        "wave_modified_at": parse_wave_datetime(node.get("modifiedAt")),
                        **tax_compound_vals(node),
                    }
                )
                result[wave_id] = tax
            else:
                to_create.append((wave_id, node))
        if to_create:
            result.update(self._create_taxes(connection, to_create))
        return result

    @api.model
    def _apply_compound_flags(self, taxes, nodes):
        """Keep bound Odoo taxes computing as Wave does (``isCompound``, see
        :func:`..mappers.reference_inbound.tax_compound_vals`); writes only what differs."""
        for tax in taxes:
            vals = {
                key: value
                for key, value in tax_compound_vals(nodes.get(tax.wave_id) or {}).items()
                if tax[key] != value
            }
            if vals:
                tax.write(vals)

    @api.model
    def _create_taxes(self, connection, to_create):
        """Create Odoo sales taxes for ``[(wave_id, node)]``; returns ``{wave_id: tax}``."""
        company = connection.company_id
        template = company.account_sale_tax_id
        tax_account = template.invoice_repartition_line_ids.filtered("account_id")[:1].account_id
        vals_list = []
        for wave_id, node in to_create:
            name = node.get("name") or node.get("abbreviation") or wave_id
            if self._tax_name_taken(connection, name):
                name = f"{name} ({tax_rate_percent(node):g}%)"
            vals_list.append(new_tax_vals(wave_id, node, name, tax_account, template, company))
        created = self.env["account.tax"].create(vals_list)
        self.env["wave.audit.log"]._log_many(
            created, "create", lambda t: {"name": t.name, "amount": t.amount}
        )
        return {tax.wave_id: tax for tax in created}

    @api.model
    def _tax_name_taken(self, connection, name):
        return bool(
            self.env["account.tax"]
            .with_context(active_test=False)
            .search_count(
                [
                    ("company_id", "=", connection.company_id.id),
                    ("name", "=", name),
                    ("type_tax_use", "=", "sale"),
                ],
                limit=1,
            )
        )

    # ------------------------------------------------------------------
    # Products
    # ------------------------------------------------------------------
    @api.model
    def _resolve_products(self, connection, nodes, taxes=None):
        """``{wave_product_id: product.product}``: by Wave id, then exact name, else created."""
        nodes = {n["id"]: n for n in nodes if n and n.get("id")}
        if not nodes:
            return {}
        Product = self.env["product.product"].with_context(active_test=False)
        bound = Product.search(
            [("wave_id", "in", list(nodes)), ("wave_company_id", "=", connection.company_id.id)]
        )
        result = {p.wave_id: p for p in bound}
        for product in bound:
            node = nodes[product.wave_id]
            modified = parse_wave_datetime(node.get("modifiedAt"))
            if not (modified and product.wave_modified_at):
                continue
            vals = product_update_vals(node, product, modified)
            # Same second as the change last seen: the values decide (lib/wave_versions).
            if is_newer_wave_version(
                modified,
                product.wave_modified_at,
                lambda vals=vals, product=product: any(
                    product[name] != value
                    for name, value in vals.items()
                    if name != "wave_modified_at"
                ),
            ):
                product.write(vals)
        missing = {k: v for k, v in nodes.items() if k not in result}
        if missing:
            result.update(self._bind_or_create_products(connection, missing, taxes))
        return result

    @api.model
    def _bind_or_create_products(self, connection, missing, taxes):
        """Bind unbound Odoo products of the same name, create the others."""
        company = connection.company_id
        Product = self.env["product.product"].with_context(active_test=False)
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
        tax_nodes = [t for t in tax_nodes if t["id"] not in taxes]
        taxes.update(self._resolve_taxes(connection, tax_nodes))
        result, vals_list = {}, []
        for wave_id, node in missing.items():
            name = (node.get("name") or "").strip() or wave_id
            binding = product_binding_vals(wave_id, node, company)
            product = by_name.get(name)
            if product and not product.wave_id:
                product.write(binding)
                result[wave_id] = product
                continue
            tax_ids = [
                taxes[t["id"]].id for t in node.get("defaultSalesTaxes") or [] if t["id"] in taxes
            ]
            vals_list.append(new_product_vals(binding, name, node, tax_ids))
        if vals_list:
            created = Product.create(vals_list)
            result.update({p.wave_id: p for p in created})
            self.env["wave.audit.log"]._log_many(
                created, "create", lambda p: {"name": p.name, "list_price": p.list_price}
            )
        return result
