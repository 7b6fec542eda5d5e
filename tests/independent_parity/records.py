"""Plain records the two readers return: no Odoo, no addon, money in ``Decimal``."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class WaveInvoice:
    id: str
    number: str
    status: str
    invoice_date: date
    currency: str
    exponent: int  # decimals of the currency
    customer_id: str
    customer_name: str
    customer_email: str
    subtotal: Decimal  # before the invoice discount
    discount: Decimal
    tax: Decimal
    total: Decimal
    paid: Decimal
    due: Decimal


@dataclass(frozen=True)
class WavePayment:
    id: str
    invoice_id: str
    payment_date: date
    amount: Decimal


@dataclass(frozen=True)
class Contact:
    id: object
    name: str
    email: str


@dataclass(frozen=True)
class Product:
    id: object
    name: str


@dataclass(frozen=True)
class MoneyTransaction:
    id: str
    external_id: str
    tx_date: date
    amount: Decimal
    direction: str
    description: str


@dataclass(frozen=True)
class OdooInvoice:
    id: int
    name: str
    payment_reference: str
    ref: str
    state: str  # draft / posted / cancel
    payment_state: str  # not_paid / partial / in_payment / paid / reversed / ...
    invoice_date: date
    currency: str
    decimals: int
    partner_id: int
    partner_name: str
    partner_email: str
    untaxed: Decimal  # stored header amounts
    tax: Decimal
    total: Decimal
    residual: Decimal
    lines_untaxed: Decimal  # recomputed here from the invoice lines
    lines_tax: Decimal
    wave_id: str = ""  # data only: never used to match

    @property
    def live(self):
        """Booked and not undone: not cancelled, not reversed by a credit note."""
        return self.state != "cancel" and self.payment_state != "reversed"


@dataclass(frozen=True)
class OdooPayment:
    id: int
    name: str
    payment_date: date
    amount: Decimal  # in the invoice currency
    state: str


@dataclass(frozen=True)
class WaveEstimate:
    id: str
    number: str
    status: str
    estimate_date: date
    currency: str
    exponent: int
    customer_name: str
    subtotal: Decimal  # before the estimate discount
    discount: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class OdooQuotation:
    id: int
    name: str
    wave_number: str  # the Wave estimate number Odoo keeps on the order
    state: str  # draft / sent / sale / cancel
    date_order: date
    currency: str
    decimals: int
    partner_name: str
    untaxed: Decimal  # stored header amounts
    tax: Decimal
    total: Decimal
    lines_untaxed: Decimal  # recomputed here from the order lines
    lines_tax: Decimal
