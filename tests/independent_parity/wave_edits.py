"""Test helpers: change a Wave business through plain GraphQL mutations.

Used by this package's tests to break parity on the Wave side.
"""

from datetime import date

import requests


class WaveEditor:
    def __init__(self, graphql_url, token, business_id):
        self.url, self.business_id = graphql_url, business_id
        self.headers = {"Authorization": f"Bearer {token}"}

    def run(self, document, variables=None):
        body = requests.post(
            self.url,
            json={"query": document, "variables": variables or {}},
            headers=self.headers,
            timeout=30,
        ).json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def mutate(self, name, payload, fields):
        data = self.run(
            f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) "
            f"{{ didSucceed inputErrors {{ code message path }} {fields} }} }}",
            {"input": payload},
        )[name]
        assert data["didSucceed"], data["inputErrors"]
        return data

    def invoice(self, invoice_id):
        return self.run(
            "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id invoiceNumber "
            "exchangeRate invoiceDate customer { id name email } total { value } "
            "items { product { id } quantity unitPrice } } } }",
            {"b": self.business_id, "i": invoice_id},
        )["business"]["invoice"]

    def bank_account(self, filters="subtypes: [CASH_AND_BANK]"):
        accounts = self.run(
            f"query($b: ID!) {{ business(id: $b) {{ accounts({filters}) "
            "{ edges { node { id } } } } }",
            {"b": self.business_id},
        )["business"]["accounts"]["edges"]
        return accounts[0]["node"]["id"]

    def money_transaction(self, external_id, amount, tx_date, description):
        """A withdrawal from the bank to an expense account (a vendor bill paid)."""
        return self.mutate(
            "moneyTransactionCreate",
            {
                "businessId": self.business_id,
                "externalId": external_id,
                "date": tx_date.isoformat(),
                "description": description,
                "anchor": {
                    "accountId": self.bank_account(),
                    "amount": str(amount),
                    "direction": "WITHDRAWAL",
                },
                "lineItems": [
                    {
                        "accountId": self.bank_account("types: [EXPENSE]"),
                        "amount": str(amount),
                        "balance": "INCREASE",
                    }
                ],
            },
            "transaction { id }",
        )["transaction"]["id"]

    def pay(self, invoice_id, amount, payment_date=None):
        invoice = self.invoice(invoice_id)
        return self.mutate(
            "invoicePaymentCreateManual",
            {
                "invoiceId": invoice_id,
                "paymentAccountId": self.bank_account(),
                "amount": str(amount),
                "paymentDate": (payment_date or date.today()).isoformat(),
                "paymentMethod": "BANK_TRANSFER",
                "exchangeRate": invoice["exchangeRate"],
            },
            "invoicePayment { id }",
        )["invoicePayment"]["id"]

    def patch_invoice(self, invoice_id, **changes):
        return self.mutate(
            "invoicePatch", dict(changes, id=invoice_id), "invoice { id total { value } }"
        )["invoice"]

    def create_customer(self, name, email=None):
        payload = {"businessId": self.business_id, "name": name}
        if email:
            payload["email"] = email
        return self.mutate("customerCreate", payload, "customer { id }")["customer"]["id"]

    def create_product(self, name, price="10"):
        payload = {"businessId": self.business_id, "name": name, "unitPrice": str(price)}
        return self.mutate("productCreate", payload, "product { id }")["product"]["id"]

    def create_invoice(self, customer_id, product_id, invoice_number, approve=True):
        invoice = self.mutate(
            "invoiceCreate",
            {
                "businessId": self.business_id,
                "customerId": customer_id,
                "invoiceNumber": invoice_number,
                "status": "SAVED" if approve else "DRAFT",
                "items": [{"productId": product_id, "quantity": "2", "unitPrice": "12.5"}],
            },
            "invoice { id }",
        )["invoice"]
        return invoice["id"]
