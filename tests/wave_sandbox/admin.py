"""Sandbox admin HTTP API under ``/sandbox/`` (header ``X-Sandbox-Admin-Token``).

Every endpoint is documented in README.md.  Bodies and responses are JSON unless noted.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from . import ops
from .export import export_csv
from .store import Business, Estimate, Invoice, InvoicePayment, fmt_datetime

GET, POST, DELETE = ["GET"], ["POST"], ["DELETE"]

# Paths are relative to /sandbox/ (a trailing slash is ignored); endpoints are
# AdminAPI method names. A wrong method is an unknown endpoint (404), as before.
URLS = Map(
    [
        Rule("/health", endpoint="health"),
        Rule("/reset", endpoint="reset", methods=POST),
        Rule("/seed", endpoint="seed", methods=POST),
        Rule("/state", endpoint="state", methods=GET),
        Rule("/save", endpoint="save", methods=POST),
        Rule("/businesses", endpoint="create_business", methods=POST),
        Rule("/tokens", endpoint="issue_token", methods=POST),
        Rule("/tokens/revoke", endpoint="revoke_tokens", methods=POST),
        Rule("/tokens/expire", endpoint="expire_tokens", methods=POST),
        Rule("/oauth/clients", endpoint="register_oauth_client", methods=POST),
        Rule("/config", endpoint="config", methods=["GET", "POST"]),
        Rule("/faults", endpoint="list_faults", methods=GET),
        Rule("/faults", endpoint="add_fault", methods=POST),
        Rule("/faults", endpoint="clear_faults", methods=DELETE),
        Rule("/faults/<int:fault_id>", endpoint="remove_fault", methods=DELETE),
        Rule("/counters", endpoint="counters"),
        Rule("/counters/reset", endpoint="reset_counters", methods=POST),
        Rule("/journal", endpoint="journal", methods=GET),
        Rule("/money-transactions", endpoint="money_transactions", methods=GET),
        Rule("/payments/<any(refund, void):action>", endpoint="payment_action", methods=POST),
        Rule("/invoices/view", endpoint="view_invoice", methods=POST),
        Rule(
            "/estimates/<any(view, reject, deposit):action>",
            endpoint="estimate_action",
            methods=POST,
        ),
        Rule("/export", endpoint="export", methods=GET),
        Rule("/webhooks/subscriptions", endpoint="webhook_subscriptions", methods=GET),
        Rule("/webhooks/subscriptions", endpoint="webhook_subscribe", methods=POST),
        Rule("/webhooks/subscriptions/<sub_id>", endpoint="webhook_unsubscribe", methods=DELETE),
        Rule("/webhooks/deliveries", endpoint="webhook_deliveries", methods=GET),
        Rule("/webhooks/events", endpoint="webhook_events", methods=GET),
        Rule("/webhooks/duplicate", endpoint="webhook_duplicate", methods=POST),
        Rule("/webhooks/out-of-order", endpoint="webhook_out_of_order", methods=POST),
        Rule("/webhooks/<any(burst, test):sub>", endpoint="webhook_send", methods=POST),
        Rule("/webhooks/scan-overdue", endpoint="webhook_scan_overdue", methods=POST),
        Rule("/webhooks/config", endpoint="webhook_config", methods=POST),
    ]
)


def _json(status, payload):
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")


class AdminAPI:
    def __init__(self, sandbox):
        self.sb = sandbox

    def handle(self, request, route):
        """The answer to ``request`` for ``/sandbox/<route>`` (a werkzeug Response)."""
        token = request.headers.get("X-Sandbox-Admin-Token", "")
        if not hmac.compare_digest(token, self.sb.admin_token):
            return _json(401, {"error": "missing or wrong X-Sandbox-Admin-Token"})
        method = request.method
        params = request.args.to_dict()
        body = {}
        if method in ("POST", "DELETE"):
            raw = request.get_data()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return _json(400, {"error": "body must be JSON"})
        route = route.rstrip("/")
        try:
            endpoint, args = URLS.bind("sandbox").match("/" + route, method=method)
        except HTTPException:
            return _json(404, {"error": f"unknown admin endpoint {method} /sandbox/{route}"})
        try:
            result = getattr(self, endpoint)(params=params, body=body, method=method, **args)
        except (KeyError, ValueError, TypeError) as exc:
            return _json(400, {"error": f"{type(exc).__name__}: {exc}"})
        if isinstance(result, Response):
            return result
        status, payload = result
        return _json(status, payload)

    # ---------------------------------------------------------------------------
    def health(self, **_kw):
        return 200, {"ok": True}

    def reset(self, body, **_kw):
        self.sb.reset(
            seed_demo=bool(body.get("demo")),
            invoices_per_business=int(body.get("invoices_per_business", 200)),
            realistic=bool(body.get("realistic")),
        )
        return 200, self.sb.summary()

    def seed(self, body, **_kw):
        businesses = self.sb.seed_demo(
            invoices_per_business=int(body.get("invoices_per_business", 200)),
            customers=int(body.get("customers", 40)),
            vendors=int(body.get("vendors", 15)),
            years=int(body.get("years", 3)),
            realistic=bool(body.get("realistic")),
        )
        return 200, {"businesses": [b.id for b in businesses], **self.sb.summary()}

    def state(self, **_kw):
        return 200, self.sb.summary()

    def save(self, body, **_kw):
        return 200, {"saved": self.sb.save(body.get("path"))}

    def create_business(self, body, **_kw):
        b = self.sb.create_business(
            body.get("name", "Sandbox Business"),
            body.get("currency", "USD"),
            body.get("country", "US"),
            province=body.get("province"),
            classic=bool(body.get("classic")),
            email_send_enabled=body.get("email_send_enabled", True),
        )
        return 200, {"id": b.id, "name": b.name}

    def issue_token(self, body, **_kw):
        tok = self.sb.issue_full_access_token(
            scopes=body.get("scopes"), business_ids=body.get("business_ids"), ttl=body.get("ttl")
        )
        return 200, {"access_token": tok, "token_type": "Bearer"}

    def revoke_tokens(self, body, **_kw):
        revoked = self.sb.revoke_tokens(
            token=body.get("token"), client_id=body.get("client_id"), all=bool(body.get("all"))
        )
        return 200, {"revoked": revoked}

    def expire_tokens(self, body, **_kw):
        expired = self.sb.expire_tokens(token=body.get("token"), all=bool(body.get("all")))
        return 200, {"expired": expired}

    def register_oauth_client(self, body, **_kw):
        self.sb.register_oauth_client(
            body["client_id"], body["client_secret"], body["redirect_uris"], name=body.get("name")
        )
        return 200, {"client_id": body["client_id"]}

    def config(self, body, method, **_kw):
        return 200, self.sb.configure(**body) if method == "POST" else self.sb.configure()

    def list_faults(self, **_kw):
        return 200, {"faults": self.sb.faults.list()}

    def add_fault(self, body, **_kw):
        return 200, self.sb.faults.add(**body).as_dict()

    def clear_faults(self, **_kw):
        self.sb.faults.clear()
        return 200, {"faults": self.sb.faults.list()}

    def remove_fault(self, fault_id, **_kw):
        self.sb.faults.remove(fault_id)
        return 200, {"faults": self.sb.faults.list()}

    def counters(self, **_kw):
        return 200, self.sb.counters.as_dict()

    def journal(self, params, **_kw):
        """Every GraphQL request and token grant since ``since`` (Unix time):
        ``{t, kind, key, status}``; ``key`` is the token (GraphQL) or the client id."""
        return 200, {"entries": self.sb.counters.journal_since(float(params.get("since") or 0))}

    def reset_counters(self, **_kw):
        self.sb.counters.reset()
        return 200, self.sb.counters.as_dict()

    def money_transactions(self, params, **_kw):
        return 200, {"transactions": self._money_transactions(params.get("businessId"))}

    def payment_action(self, action, body, **_kw):
        return self._payment_action(action, body)

    def view_invoice(self, body, **_kw):
        sb = self.sb
        with sb.state.lock:
            inv = sb.state.get(body["invoice_id"], Invoice)
            if inv is None:
                return 404, {"error": "invoice not found"}
            ops.mark_viewed(sb.state, inv)
        return 200, {"status": inv.status}

    def estimate_action(self, action, body, **_kw):
        """What only the customer does at Wave: view or reject an estimate, or pay its
        deposit (``amount``, default what is left of the deposit; ``payment_date``;
        into the business's checking account unless ``payment_account_id``)."""
        sb = self.sb
        with sb.state.lock:
            est = sb.state.get(body.get("estimate_id"), Estimate)
            if est is None:
                return 404, {"error": "estimate not found"}
            out = {}
            try:
                if action == "deposit":
                    account = body.get("payment_account_id") or (
                        ops.system_account(est.business, "CASH_AND_BANK", "Checking Account").id
                    )
                    date = body.get("payment_date")
                    pay = ops.pay_estimate_deposit(
                        sb.state,
                        est,
                        {
                            "paymentAccountId": account,
                            "amount": body.get("amount"),
                            "paymentDate": dt.date.fromisoformat(date) if date else None,
                        },
                    )
                    out = {"payment_id": pay.id, "amount": pay.amount}
                else:
                    fn = ops.view_estimate if action == "view" else ops.reject_estimate
                    fn(sb.state, est)
            except ops.InputErrors as exc:
                return 409, {"error": exc.errors[0]["message"]}
        return 200, {"status": est.status, **out}

    def export(self, params, **_kw):
        return self._export(params)

    def _payment_action(self, action, body):
        """Refund or void a payment, as Wave's UI or payment processor would."""
        sb = self.sb
        with sb.state.lock:
            pay = sb.state.get(body["payment_id"], InvoicePayment)
            if pay is None:
                return 404, {"error": "payment not found"}
            try:
                if action == "refund":
                    day = dt.date.fromisoformat(body.get("date") or sb.state.today().isoformat())
                    result = ops.refund_payment(
                        sb.state, pay, body["amount"], day, memo=body.get("memo")
                    )
                else:
                    result = ops.void_payment(sb.state, pay)
            except ops.InputErrors as exc:
                return 400, {"error": str(exc), "inputErrors": exc.errors}
            inv = result.invoice
            return 200, {
                "id": result.id,
                "transactionType": result.transaction_type,
                "state": result.state,
                "invoiceStatus": inv.status,
                "amountPaid": inv.amount_paid.value,
            }

    def _money_transactions(self, business_id):
        out = []
        for b in self.sb.state.businesses:
            if business_id and b.id != business_id:
                continue
            for mt in b.money_transactions:
                out.append(
                    {
                        "id": mt.id,
                        "businessId": b.id,
                        "externalId": mt.external_id,
                        "date": mt.date.isoformat(),
                        "description": mt.description,
                        "notes": mt.notes,
                        "anchor": mt.anchor,
                        "lineItems": mt.line_items,
                        "createdAt": fmt_datetime(mt.created_at),
                        "journal": [
                            {
                                "accountId": a.id,
                                "accountName": a.name,
                                "debit": d,
                                "credit": c,
                                "description": desc,
                            }
                            for a, d, c, desc in mt.lines
                        ],
                    }
                )
        return out

    def _export(self, params):
        b = self.sb.state.get(params.get("businessId"), Business)
        if b is None:
            return 404, {"error": "businessId required / not found"}
        columns = params.get("columns")
        columns = [c.strip() for c in columns.split(",")] if columns else self.sb.export_columns
        start = dt.date.fromisoformat(params["start"]) if params.get("start") else None
        end = dt.date.fromisoformat(params["end"]) if params.get("end") else None
        with self.sb.state.lock:
            text = export_csv(b, columns, start, end)
        return Response(
            text.encode("utf-8"),
            status=200,
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": (
                    f'attachment; filename="accounting-transactions-{b.name}.csv"'
                ),
            },
        )

    # webhooks -------------------------------------------------------------------
    def webhook_subscriptions(self, **_kw):
        return 200, {"subscriptions": list(self.sb.webhooks.subscriptions.values())}

    def webhook_subscribe(self, body, **_kw):
        return 200, self.sb.webhooks.subscribe(
            body["url"],
            body["secret"],
            body.get("event_types"),
            body.get("business_id"),
            body.get("scopes"),
        )

    def webhook_unsubscribe(self, sub_id, **_kw):
        self.sb.webhooks.unsubscribe(sub_id)
        return 200, {"deleted": sub_id}

    def webhook_deliveries(self, params, **_kw):
        wh = self.sb.webhooks
        items = wh.deliveries
        if params.get("event_type"):
            items = [d for d in items if d["event_type"] == params["event_type"]]
        return 200, {"deliveries": items, "pending": wh.pending()}

    def webhook_events(self, **_kw):
        return 200, {"events": self.sb.webhooks.events}

    def webhook_duplicate(self, body, **_kw):
        wh = self.sb.webhooks
        if body.get("delivery_id"):
            return 200, {"ok": wh.redeliver(body["delivery_id"])}
        wh.duplicate_next += int(body.get("next", 1))
        return 200, {"duplicate_next": wh.duplicate_next}

    def webhook_out_of_order(self, body, **_kw):
        wh = self.sb.webhooks
        wh.hold_count = int(body.get("next", 2))
        return 200, {"hold_count": wh.hold_count}

    def webhook_send(self, sub, body, **_kw):
        """``burst`` (default 10 events) or ``test`` (default 1, marked as a test)."""
        wh = self.sb.webhooks
        count = int(body.get("count", 1 if sub == "test" else 10))
        b = self.sb.state.get(body.get("business_id"), Business) or (
            self.sb.state.businesses[0] if self.sb.state.businesses else None
        )
        inv = self.sb.state.get(body.get("invoice_id"), Invoice)
        if inv is None and body.get("estimate_id"):
            inv = self.sb.state.get(body["estimate_id"], Estimate)  # an estimate event
        if inv is None and b is not None and b.invoices:
            inv = b.invoices[-1]
        events = []
        with self.sb.state.lock:
            for _ in range(count):
                events.append(
                    wh.on_event(
                        body.get("event_type", "invoice.updated"),
                        inv.business if inv else b,
                        inv,
                        {"test": sub == "test"},
                    )
                )
        return 200, {"events": [e["event_id"] for e in events]}

    def webhook_scan_overdue(self, **_kw):
        return 200, {"emitted": self.sb.scan_overdue()}

    def webhook_config(self, body, **_kw):
        wh = self.sb.webhooks
        if "scheme" in body:
            wh.scheme.update(body["scheme"])
        if "retry_delays" in body:
            wh.retry_delays = [float(x) for x in body["retry_delays"]]
        return 200, {"scheme": wh.scheme, "retry_delays": wh.retry_delays}
