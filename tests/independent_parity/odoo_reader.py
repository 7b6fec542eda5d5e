"""Odoo, read through SQL only: an ``env``'s cursor (in-process tests) or a
psycopg2 connection from a DSN (an Odoo running in another process).

Nothing here goes through the addon's models or bindings: invoices, lines,
payments, partners and products are read from Odoo's own tables. The addon's
``wave_id`` column is read as data for the report, never to match.
"""

from collections import defaultdict
from decimal import Decimal

from .records import Contact, OdooInvoice, OdooPayment, OdooQuotation, Product

LIVE_PAYMENT_STATES = ("in_process", "paid")  # not draft, canceled or rejected

INVOICES = """
SELECT m.id, m.name, m.payment_reference, m.ref, m.state, m.payment_state,
       m.invoice_date, cur.name, cur.decimal_places,
       cp.id, cp.name, cp.email,
       m.amount_untaxed, m.amount_tax, m.amount_total, m.amount_residual, {wave_id}
  FROM account_move m
  JOIN res_currency cur ON cur.id = m.currency_id
  LEFT JOIN res_partner cp ON cp.id = m.commercial_partner_id
 WHERE m.move_type = 'out_invoice' AND m.company_id = %(company)s
   AND (%(start)s::date IS NULL OR m.invoice_date >= %(start)s::date)
   AND (%(end)s::date IS NULL OR m.invoice_date <= %(end)s::date)
"""

# The untaxed amount and the tax of each invoice, added up from its lines (not the
# stored header figures: a line changed behind the ORM's back shows here).
LINE_SUMS = """
SELECT move_id,
       COALESCE(SUM(price_subtotal) FILTER (WHERE display_type = 'product'), 0),
       COALESCE(SUM(-amount_currency) FILTER (WHERE display_type = 'tax'), 0)
  FROM account_move_line
 WHERE move_id = ANY(%(ids)s)
 GROUP BY move_id
"""

# Sale orders (quotations and orders) of the company, with the Wave estimate number the
# order keeps (``{wave_number}``: the column, or NULL without the addon), the stored
# header amounts and the same amounts added up again from the order lines.
QUOTATIONS = """
SELECT so.id, so.name, {wave_number}, so.state, so.date_order::date,
       cur.name, cur.decimal_places, cp.name,
       so.amount_untaxed, so.amount_tax, so.amount_total,
       COALESCE((SELECT SUM(l.price_subtotal) FROM sale_order_line l
                  WHERE l.order_id = so.id AND l.display_type IS NULL), 0),
       COALESCE((SELECT SUM(l.price_tax) FROM sale_order_line l
                  WHERE l.order_id = so.id AND l.display_type IS NULL), 0)
  FROM sale_order so
  JOIN res_currency cur ON cur.id = so.currency_id
  JOIN res_partner p ON p.id = so.partner_id
  LEFT JOIN res_partner cp ON cp.id = COALESCE(p.commercial_partner_id, p.id)
 WHERE so.company_id = %(company)s
   AND (%(start)s::date IS NULL OR so.date_order::date >= %(start)s::date)
   AND (%(end)s::date IS NULL OR so.date_order::date <= %(end)s::date)
"""

# Payments of each invoice: linked (Odoo 18 keeps invoice_ids even without a journal
# entry) or reconciled with one of the invoice's receivable lines.
PAYMENT_LINKS = """
SELECT rel.invoice_id, rel.payment_id, NULL::numeric
  FROM account_move__account_payment rel
 WHERE rel.invoice_id = ANY(%(ids)s)
UNION ALL
SELECT inv_line.move_id, pay.id, SUM(part.debit_amount_currency)
  FROM account_move_line inv_line
  JOIN account_partial_reconcile part ON part.debit_move_id = inv_line.id
  JOIN account_move_line pay_line ON pay_line.id = part.credit_move_id
  JOIN account_payment pay ON pay.move_id = pay_line.move_id
 WHERE inv_line.move_id = ANY(%(ids)s)
 GROUP BY inv_line.move_id, pay.id
"""

# Refunds: outbound customer payments reconciled with a payment of the invoice (the
# money given back comes out of that payment, the invoice is open again by as much).
REFUND_LINKS = """
SELECT in_pay.id, out_pay.id, SUM(part.debit_amount_currency)
  FROM account_payment in_pay
  JOIN account_move_line in_line ON in_line.move_id = in_pay.move_id
  JOIN account_partial_reconcile part ON part.credit_move_id = in_line.id
  JOIN account_move_line out_line ON out_line.id = part.debit_move_id
  JOIN account_payment out_pay ON out_pay.move_id = out_line.move_id
 WHERE in_pay.id = ANY(%(ids)s) AND out_pay.payment_type = 'outbound'
   AND out_pay.id != in_pay.id
 GROUP BY in_pay.id, out_pay.id
"""

PAYMENTS = """
SELECT pay.id, pay.name, pay.date, pay.amount, cur.name, pay.state, pay.payment_type
  FROM account_payment pay
  JOIN res_currency cur ON cur.id = pay.currency_id
 WHERE pay.id = ANY(%(ids)s)
"""

CUSTOMERS = """
SELECT p.id, p.name, p.email
  FROM res_partner p
 WHERE p.active AND p.parent_id IS NULL
   AND (p.company_id IS NULL OR p.company_id = %(company)s)
   AND (p.customer_rank > 0 OR p.id = ANY(%(used)s))
"""

PRODUCTS = """
SELECT pp.id,
       COALESCE(pt.name->>'en_US', pt.name->>(SELECT min(k) FROM jsonb_object_keys(pt.name) k))
  FROM product_product pp
  JOIN product_template pt ON pt.id = pp.product_tmpl_id
 WHERE pp.active AND pt.active AND pt.sale_ok
   AND (pt.company_id IS NULL OR pt.company_id = %(company)s)
"""

SUPPLIER_PAYMENTS = """
SELECT pay.id, pay.name, pay.date, pay.amount, pay.state
  FROM account_payment pay
 WHERE pay.payment_type = 'outbound' AND pay.partner_type = 'supplier'
   AND pay.company_id = %(company)s AND pay.state = ANY(%(states)s)
   AND (%(start)s::date IS NULL OR pay.date >= %(start)s::date)
   AND (%(end)s::date IS NULL OR pay.date <= %(end)s::date)
"""


class OdooReader:
    """Reads one Odoo company. Give exactly one of:

    * ``env``: an Odoo environment (its pending ORM writes are flushed first, then
      its cursor is used: the test's own transaction is seen);
    * ``dsn``: a libpq connection string (``"dbname=wave_e2e_1 host=127.0.0.1 user=odoo
      password=odoo"``) for an Odoo server in another process; the connection is
      read-only and closed by :meth:`close` (or ``with OdooReader(...)``);
    * ``cursor``: any DB-API cursor on Odoo's database.

    ``company_id`` defaults to the env's company, or to the first company.
    """

    def __init__(self, env=None, dsn=None, cursor=None, company_id=None):
        if sum(x is not None for x in (env, dsn, cursor)) != 1:
            raise ValueError("give exactly one of env, dsn or cursor")
        self.env, self._connection = env, None
        if env is not None:
            env.flush_all()
            cursor = env.cr
            company_id = company_id or env.company.id
        elif dsn is not None:
            import psycopg2

            self._connection = psycopg2.connect(dsn)
            self._connection.set_session(readonly=True, autocommit=True)
            cursor = self._connection.cursor()
        self.cr = cursor
        if company_id is None:
            company_id = self.rows("SELECT min(id) FROM res_company")[0][0]
        self.company_id = company_id
        self._has_wave_id = bool(
            self.rows(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'account_move' AND column_name = 'wave_id'"
            )
        )

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rows(self, query, params=None):
        self.cr.execute(query, params or {})
        return self.cr.fetchall()

    # -- invoices ------------------------------------------------------------------
    def invoices(self, date_from=None, date_to=None):
        """Every customer invoice of the company (any state) in the date range."""
        query = INVOICES.format(wave_id="m.wave_id" if self._has_wave_id else "NULL")
        rows = self.rows(query, {"company": self.company_id, "start": date_from, "end": date_to})
        sums = {}
        if rows:
            ids = [row[0] for row in rows]
            sums = {r[0]: (r[1], r[2]) for r in self.rows(LINE_SUMS, {"ids": ids})}
        invoices = []
        for row in rows:
            (move_id, name, reference, ref, state, payment_state, invoice_date) = row[:7]
            (currency, decimals, partner_id, partner_name, partner_email) = row[7:12]
            untaxed, tax, total, residual, wave_id = row[12:]
            lines_untaxed, lines_tax = sums.get(move_id, (0, 0))
            invoices.append(
                OdooInvoice(
                    id=move_id,
                    name=name or "",
                    payment_reference=reference or "",
                    ref=ref or "",
                    state=state,
                    payment_state=payment_state or "",
                    invoice_date=invoice_date,
                    currency=currency,
                    decimals=decimals,
                    partner_id=partner_id,
                    partner_name=partner_name or "",
                    partner_email=partner_email or "",
                    untaxed=Decimal(untaxed or 0),
                    tax=Decimal(tax or 0),
                    total=Decimal(total or 0),
                    residual=Decimal(residual or 0),
                    lines_untaxed=Decimal(lines_untaxed),
                    lines_tax=Decimal(lines_tax),
                    wave_id=wave_id or "",
                )
            )
        return invoices

    # -- quotations -----------------------------------------------------------------
    def quotations(self, date_from=None, date_to=None):
        """Every sale order of the company (any state) ordered in the date range."""
        has_number = bool(
            self.rows(
                "SELECT 1 FROM information_schema.columns "
                "WHERE table_name = 'sale_order' AND column_name = 'wave_estimate_number'"
            )
        )
        query = QUOTATIONS.format(
            wave_number="so.wave_estimate_number" if has_number else "NULL::varchar"
        )
        params = {"company": self.company_id, "start": date_from, "end": date_to}
        return [
            OdooQuotation(
                id=row[0],
                name=row[1] or "",
                wave_number=row[2] or "",
                state=row[3],
                date_order=row[4],
                currency=row[5],
                decimals=row[6],
                partner_name=row[7] or "",
                untaxed=Decimal(row[8] or 0),
                tax=Decimal(row[9] or 0),
                total=Decimal(row[10] or 0),
                lines_untaxed=Decimal(row[11]),
                lines_tax=Decimal(row[12]),
            )
            for row in self.rows(query, params)
        ]

    def payments(self, invoices):
        """``{invoice id: [OdooPayment]}``: the live payments of each invoice, each for
        the amount it brings to that invoice, in the invoice's currency."""
        by_id = {inv.id: inv for inv in invoices}
        links = defaultdict(dict)  # invoice -> payment -> reconciled amount (or None)
        for invoice_id, payment_id, reconciled in self.rows(PAYMENT_LINKS, {"ids": list(by_id)}):
            known = links[invoice_id].get(payment_id)
            links[invoice_id][payment_id] = reconciled if reconciled is not None else known
        linked = list({pid for per in links.values() for pid in per})
        for paid_by, refund_id, reconciled in self.rows(REFUND_LINKS, {"ids": linked}):
            for per in links.values():
                if paid_by in per and refund_id not in per:
                    per[refund_id] = reconciled
        payment_ids = list({pid for per in links.values() for pid in per})
        payments = {
            row[0]: row for row in self.rows(PAYMENTS, {"ids": payment_ids})
        }  # id -> (id, name, date, amount, currency, state, payment_type)
        invoices_of = defaultdict(set)
        for invoice_id, per in links.items():
            for payment_id in per:
                invoices_of[payment_id].add(invoice_id)
        found = {}
        for invoice_id, per in links.items():
            invoice = by_id[invoice_id]
            found[invoice_id] = []
            for payment_id, reconciled in per.items():
                _id, name, pay_date, amount, currency, state, direction = payments[payment_id]
                if state not in LIVE_PAYMENT_STATES:
                    continue
                whole = currency == invoice.currency and len(invoices_of[payment_id]) == 1
                if not whole and reconciled is None:
                    continue  # another currency or shared, and not reconciled: no amount
                value = Decimal(amount if whole else reconciled)
                if direction == "outbound":
                    value = -value  # money given back to the customer: a refund
                found[invoice_id].append(
                    OdooPayment(
                        id=payment_id,
                        name=name or "",
                        payment_date=pay_date,
                        amount=value,
                        state=state,
                    )
                )
        return found

    # -- contacts, products, supplier payments ------------------------------------------
    def customers(self, used_partner_ids=()):
        rows = self.rows(CUSTOMERS, {"company": self.company_id, "used": list(used_partner_ids)})
        return [Contact(r[0], r[1] or "", r[2] or "") for r in rows]

    def products(self):
        """Active products that can be sold, of the company or shared."""
        return [
            Product(r[0], r[1] or "") for r in self.rows(PRODUCTS, {"company": self.company_id})
        ]

    def supplier_payments(self, date_from=None, date_to=None):
        rows = self.rows(
            SUPPLIER_PAYMENTS,
            {
                "company": self.company_id,
                "states": list(LIVE_PAYMENT_STATES),
                "start": date_from,
                "end": date_to,
            },
        )
        return [OdooPayment(r[0], r[1] or "", r[2], Decimal(r[3]), r[4]) for r in rows]
