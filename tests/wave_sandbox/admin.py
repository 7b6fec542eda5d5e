"""Sandbox admin HTTP API under ``/sandbox/`` (header ``X-Sandbox-Admin-Token``).

Every endpoint is documented in README.md.  Bodies and responses are JSON unless noted.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import urllib.parse

from . import ops
from .export import export_csv
from .store import Business, Invoice, InvoicePayment, fmt_datetime


class AdminAPI:
    def __init__(self, sandbox):
        self.sb = sandbox

    def handle(self, handler, method, path, query):
        token = handler.headers.get("X-Sandbox-Admin-Token", "")
        if not hmac.compare_digest(token, self.sb.admin_token):
            return handler.send_json(401, {"error": "missing or wrong X-Sandbox-Admin-Token"})
        params = dict(urllib.parse.parse_qsl(query))
        body = {}
        if method in ("POST", "DELETE"):
            raw = handler._body()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return handler.send_json(400, {"error": "body must be JSON"})
        route = path[len("/sandbox/") :].rstrip("/")
        parts = route.split("/")
        try:
            result = self.route(handler, method, parts, params, body)
        except (KeyError, ValueError, TypeError) as exc:
            return handler.send_json(400, {"error": f"{type(exc).__name__}: {exc}"})
        if result is None:
            return None
        status, payload = result
        return handler.send_json(status, payload)

    # ---------------------------------------------------------------------------
    def route(self, h, method, parts, params, body):
        sb = self.sb
        head = parts[0]
        if head == "health":
            return 200, {"ok": True}
        if head == "reset" and method == "POST":
            sb.reset(
                seed_demo=bool(body.get("demo")),
                invoices_per_business=int(body.get("invoices_per_business", 200)),
                realistic=bool(body.get("realistic")),
            )
            return 200, sb.summary()
        if head == "seed" and method == "POST":
            businesses = sb.seed_demo(
                invoices_per_business=int(body.get("invoices_per_business", 200)),
                customers=int(body.get("customers", 40)),
                vendors=int(body.get("vendors", 15)),
                years=int(body.get("years", 3)),
                realistic=bool(body.get("realistic")),
            )
            return 200, {"businesses": [b.id for b in businesses], **sb.summary()}
        if head == "state" and method == "GET":
            return 200, sb.summary()
        if head == "save" and method == "POST":
            return 200, {"saved": sb.save(body.get("path"))}
        if head == "businesses" and method == "POST":
            b = sb.create_business(
                body.get("name", "Sandbox Business"),
                body.get("currency", "USD"),
                body.get("country", "US"),
                province=body.get("province"),
                classic=bool(body.get("classic")),
                email_send_enabled=body.get("email_send_enabled", True),
            )
            return 200, {"id": b.id, "name": b.name}
        if head == "tokens":
            if len(parts) == 1 and method == "POST":
                tok = sb.issue_full_access_token(
                    scopes=body.get("scopes"),
                    business_ids=body.get("business_ids"),
                    ttl=body.get("ttl"),
                )
                return 200, {"access_token": tok, "token_type": "Bearer"}
            if parts[1:] == ["revoke"] and method == "POST":
                return 200, {
                    "revoked": sb.revoke_tokens(
                        token=body.get("token"),
                        client_id=body.get("client_id"),
                        all=bool(body.get("all")),
                    )
                }
            if parts[1:] == ["expire"] and method == "POST":
                return 200, {
                    "expired": sb.expire_tokens(token=body.get("token"), all=bool(body.get("all")))
                }
        if head == "oauth" and parts[1:] == ["clients"] and method == "POST":
            sb.register_oauth_client(
                body["client_id"],
                body["client_secret"],
                body["redirect_uris"],
                name=body.get("name"),
            )
            return 200, {"client_id": body["client_id"]}
        if head == "config" and method in ("GET", "POST"):
            return 200, sb.configure(**body) if method == "POST" else sb.configure()
        if head == "faults":
            if method == "GET":
                return 200, {"faults": sb.faults.list()}
            if method == "POST":
                return 200, sb.faults.add(**body).as_dict()
            if method == "DELETE":
                if len(parts) > 1:
                    sb.faults.remove(int(parts[1]))
                else:
                    sb.faults.clear()
                return 200, {"faults": sb.faults.list()}
        if head == "counters":
            if parts[1:] == ["reset"] and method == "POST":
                sb.counters.reset()
            return 200, sb.counters.as_dict()
        if head == "money-transactions" and method == "GET":
            return 200, {"transactions": self._money_transactions(params.get("businessId"))}
        if head == "payments" and parts[1:] in (["refund"], ["void"]) and method == "POST":
            return self._payment_action(parts[1], body)
        if head == "invoices" and parts[1:] == ["view"] and method == "POST":
            with sb.state.lock:
                inv = sb.state.get(body["invoice_id"], Invoice)
                if inv is None:
                    return 404, {"error": "invoice not found"}
                ops.mark_viewed(sb.state, inv)
            return 200, {"status": inv.status}
        if head == "export" and method == "GET":
            return self._export(h, params)
        if head == "webhooks":
            return self._webhooks(method, parts[1:], params, body)
        return 404, {"error": f"unknown admin endpoint {method} /sandbox/{'/'.join(parts)}"}

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

    def _export(self, h, params):
        b = self.sb.state.get(params.get("businessId"), Business)
        if b is None:
            return 404, {"error": "businessId required / not found"}
        columns = params.get("columns")
        columns = [c.strip() for c in columns.split(",")] if columns else self.sb.export_columns
        start = dt.date.fromisoformat(params["start"]) if params.get("start") else None
        end = dt.date.fromisoformat(params["end"]) if params.get("end") else None
        with self.sb.state.lock:
            text = export_csv(b, columns, start, end)
        h.send(
            200,
            {
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": (
                    f'attachment; filename="accounting-transactions-{b.name}.csv"'
                ),
            },
            text.encode("utf-8"),
        )
        return None

    def _webhooks(self, method, parts, params, body):
        wh = self.sb.webhooks
        sub = parts[0] if parts else ""
        if sub == "subscriptions":
            if method == "GET":
                return 200, {"subscriptions": list(wh.subscriptions.values())}
            if method == "POST":
                return 200, wh.subscribe(
                    body["url"], body["secret"], body.get("event_types"), body.get("business_id")
                )
            if method == "DELETE" and len(parts) > 1:
                wh.unsubscribe(parts[1])
                return 200, {"deleted": parts[1]}
        if sub == "deliveries" and method == "GET":
            items = wh.deliveries
            if params.get("event_type"):
                items = [d for d in items if d["event_type"] == params["event_type"]]
            return 200, {"deliveries": items, "pending": wh.pending()}
        if sub == "events" and method == "GET":
            return 200, {"events": wh.events}
        if method != "POST":
            return 404, {"error": "unknown webhook endpoint"}
        if sub == "duplicate":
            if body.get("delivery_id"):
                return 200, {"ok": wh.redeliver(body["delivery_id"])}
            wh.duplicate_next += int(body.get("next", 1))
            return 200, {"duplicate_next": wh.duplicate_next}
        if sub == "out-of-order":
            wh.hold_count = int(body.get("next", 2))
            return 200, {"hold_count": wh.hold_count}
        if sub in ("burst", "test"):
            count = int(body.get("count", 1 if sub == "test" else 10))
            b = self.sb.state.get(body.get("business_id"), Business) or (
                self.sb.state.businesses[0] if self.sb.state.businesses else None
            )
            inv = self.sb.state.get(body.get("invoice_id"), Invoice)
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
        if sub == "scan-overdue":
            return 200, {"emitted": self.sb.scan_overdue()}
        if sub == "config":
            if "scheme" in body:
                wh.scheme.update(body["scheme"])
            if "retry_delays" in body:
                wh.retry_delays = [float(x) for x in body["retry_delays"]]
            return 200, {"scheme": wh.scheme, "retry_delays": wh.retry_delays}
        return 404, {"error": "unknown webhook endpoint"}
