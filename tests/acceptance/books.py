"""Issue 16's acceptance run: books match Wave out of the box, on realistic data.

One run = a fresh copy of the template database (the addon installed, **default**
settings), the Wave sandbox seeded in realistic mode (``seed_demo(realistic=True)``:
fractional quantities, 3-5 decimal prices, multi-tax lines, discounts, foreign and
inactive currencies, refunds, voids, archived references, look-alike customers, edited
and deleted invoices), a real ``odoo --workers=2`` with queue_job's runner, and:

1. an administrator connects through OAuth and registers the webhook; only what a
   connection needs is set (URLs, OAuth client, webhook secret): every policy keeps
   its default, and no currency is activated by hand;
2. the historical import of the business's invoices runs through the job runner;
3. a round of changes in Wave through its GraphQL mutations and the sandbox's
   payment-processor endpoints (payments, a refund, a void, a payment deleted, edits to
   posted invoices, a new approved invoice, a draft deleted, an archived account),
   picked up by webhooks, then one poll;
4. the independent parity check (plain GraphQL + SQL) and the quarantine, per case of
   ``state.realistic_cases``;
5. the fix each quarantine entry calls for is applied as a person would (activate or
   add the currency, give a look-alike customer its own contact), the entries are
   replayed, and the check runs again.

The figures (Wave invoices, booked, quarantined by reason, differences by kind) are
kept for the before/after table (``scripts/books_table.py``).
"""

import datetime
import re
import time
import traceback
from collections import Counter
from decimal import Decimal
from pathlib import Path

from harness import ScratchDatabase, harness_env, pg_env, psql
from independent_parity import OdooReader, WaveReader, check_parity
from independent_parity.review import cases_of, difference_rows, reason_kind
from independent_parity.wave_edits import WaveEditor
from reliability.e2e import (
    ADMIN_TOKEN,
    OAUTH_CLIENT,
    WEBHOOK_SECRET,
    OdooServer,
    Rpc,
    Sandbox,
    connect_with_webhook,
    register_oauth_client,
    wait_for_jobs,
)

INVOICES_PER_BUSINESS = 36
CUSTOMERS = 20
YEARS = 2  # the Nova Scotia tax rate change (2025-04-01) falls inside
JOB_TIMEOUT = 600
OPEN = ("open",)


class BooksRun:
    """The scenario; :attr:`result` holds every figure and observation, filled step by
    step so that a failing run still reports how far it went."""

    def __init__(self, workdir, seed=20261202):
        self.workdir, self.seed = Path(workdir), seed
        self.template = harness_env("WAVE_TEMPLATE_DB")
        self.conf = harness_env("WAVE_ODOO_CONF")
        self.result = {"steps": []}

    # -- orchestration ---------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        try:
            with (
                Sandbox(seed=self.seed, log_dir=self.workdir) as sandbox,
                ScratchDatabase(self.template) as db,
                OdooServer(db, self.conf, log_dir=self.workdir) as odoo,
            ):
                self.sandbox, self.db, self.odoo = sandbox, db, odoo
                self._step("setup", self._setup)
                self._step("import", self._import)
                self._step("changes", self._change_wave)
                self._step("sync", self._sync_changes)
                self.result["after_sync"] = self._step("check", self._observe)
                self._step("fixes", self._apply_fixes)
                self.result["after_fixes"] = self._step("check_again", self._observe)
        except Exception as error:
            self.result["error"] = f"{type(error).__name__}: {error}"[:2000]
            self.result["traceback"] = traceback.format_exc()[-4000:]
        self.result["seconds"] = round(time.monotonic() - started, 1)
        return self.result

    def _step(self, name, action):
        begin = time.monotonic()
        value = action()
        self.result["steps"].append((name, round(time.monotonic() - begin, 1)))
        return value

    # -- 1. setup: default settings, OAuth, webhook ----------------------------------------
    def _setup(self):
        sandbox = self.sandbox
        seeded = sandbox.admin(
            "POST",
            "/sandbox/seed",
            {
                "invoices_per_business": INVOICES_PER_BUSINESS,
                "customers": CUSTOMERS,
                "vendors": 2,
                "years": YEARS,
                "realistic": True,
            },
        )
        # The US business: USD, as the company.
        self.business_id = next(b["id"] for b in seeded["businesses"] if b["currency"] == "USD")
        saved = sandbox.saved_state(self.workdir / "sandbox-state.json")
        self.cases = cases_of(saved.realistic_cases, self.business_id)
        self.token = sandbox._harness_token()
        self.editor = WaveEditor(sandbox.base + "/graphql/public", self.token, self.business_id)
        self.rpc = rpc = Rpc(self.odoo)
        rpc("ir.config_parameter", "set_param", "web.base.url", self.odoo.base)
        register_oauth_client(sandbox, self.odoo, "Odoo acceptance")
        company = rpc.search_read("res.company", [], ["id", "currency_id"], limit=1)[0]
        # What a connection needs, nothing else: every policy keeps its default.
        values = {
            "name": "Wave",
            "company_id": company["id"],
            "client_id": OAUTH_CLIENT[0],
            "client_secret": OAUTH_CLIENT[1],
            "api_url": sandbox.base + "/graphql/public",
            "authorize_url": sandbox.base + "/oauth2/authorize/",
            "token_url": sandbox.base + "/oauth2/token/",
            "allow_insecure_loopback": True,  # the sandbox listens on http://127.0.0.1
            "webhook_secret": WEBHOOK_SECRET,
        }
        self.connection_id = connect_with_webhook(rpc, sandbox, self.odoo, values, self.business_id)
        self.active_currencies_at_start = {
            c["name"] for c in rpc.search_read("res.currency", [], ["name"])
        }
        self.result["company_currency"] = company["currency_id"][1]
        self.result["cases"] = {case: len(ids) for case, ids in sorted(self.cases.items())}

    # -- 2. historical import --------------------------------------------------------------
    def _wave_invoices(self):
        return self.sandbox.all_invoices(None, self.business_id)

    def _import(self):
        dates = [inv["invoiceDate"] for inv in self._wave_invoices()]
        wizard = self.rpc(
            "wave.historical.import",
            "create",
            {"connection_id": self.connection_id, "date_from": min(dates), "date_to": max(dates)},
        )
        self.rpc("wave.historical.import", "action_import", [wizard])
        self.result["jobs_after_import"] = wait_for_jobs(self.rpc, JOB_TIMEOUT)

    # -- 3. changes in Wave ----------------------------------------------------------------
    def _payments(self, invoice_id):
        return self.editor.run(
            "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { payments { id "
            "amount paymentDate transactionType state active paymentProvider } } } }",
            {"b": self.business_id, "i": invoice_id},
        )["business"]["invoice"]["payments"]

    def _change_wave(self):
        """One of each change, on invoices the historical import booked."""
        editor, sandbox, today = self.editor, self.sandbox, datetime.date.today()
        booked = self._booked_wave_ids()
        # Invoices in the company's currency, those Odoo booked first (a change to an
        # invoice Odoo never booked shows nothing new).
        invoices = sorted(
            (inv for inv in self._wave_invoices() if inv["currency"]["code"] == "USD"),
            key=lambda inv: (inv["id"] not in booked, inv["invoiceNumber"]),
        )
        open_ = [i for i in invoices if i["status"] not in ("PAID", "OVERPAID", "DRAFT")]
        unpaid = [i for i in open_ if Decimal(i["amountPaid"]["value"]) == 0]
        partial = [i for i in open_ if Decimal(i["amountPaid"]["value"]) > 0]
        paid = [i for i in invoices if i["status"] == "PAID"]
        changes = self.changes = {}
        # A partial payment and a completing one.
        first, second = unpaid[0], partial[0]
        total = Decimal(first["total"]["value"])
        editor.pay(first["id"], (total / 3).quantize(Decimal("0.01")), today)
        due = Decimal(second["total"]["value"]) - Decimal(second["amountPaid"]["value"])
        editor.pay(second["id"], due, today)
        changes["payments"] = [first["invoiceNumber"], second["invoiceNumber"]]
        # A refund of part of a payment, and a voided card payment (Wave Payments).
        refunded = paid[0]
        payment = next(p for p in self._payments(refunded["id"]) if p["active"] is not False)
        part = (Decimal(payment["amount"]) / 4).quantize(Decimal("0.01"))
        sandbox.admin(
            "POST",
            "/sandbox/payments/refund",
            {"payment_id": payment["id"], "amount": str(part), "date": str(today)},
        )
        changes["refund"] = refunded["invoiceNumber"]
        voided = partial[1]
        card = editor.mutate(
            "invoicePaymentCreateManual",
            {
                "invoiceId": voided["id"],
                "paymentAccountId": editor.bank_account("subtypes: [MONEY_IN_TRANSIT]"),
                "amount": str(
                    Decimal(voided["total"]["value"]) - Decimal(voided["amountPaid"]["value"])
                ),
                "paymentDate": str(today),
                "paymentMethod": "CREDIT_CARD",
                "exchangeRate": "1",
            },
            "invoicePayment { id }",
        )["invoicePayment"]["id"]
        self._wait_jobs()  # the card payment reaches Odoo before it is voided
        sandbox.admin("POST", "/sandbox/payments/void", {"payment_id": card})
        changes["void"] = voided["invoiceNumber"]
        # A payment deleted (recorded by mistake).
        mistaken = paid[1]
        wrong = next(p for p in self._payments(mistaken["id"]) if p["active"] is not False)
        editor.mutate("invoicePaymentDelete", {"id": wrong["id"]}, "")
        changes["payment_deleted"] = mistaken["invoiceNumber"]
        # Edits to two posted invoices nobody touched in Odoo: a line and the due date.
        for edited in unpaid[1:3]:
            full = self._full_invoice(edited["id"])
            items = [
                {
                    "productId": item["product"]["id"],
                    "quantity": str(Decimal(item["quantity"]) + 1),
                    "unitPrice": item["unitPrice"],
                    "taxes": [{"salesTaxId": t["salesTax"]["id"]} for t in item["taxes"]],
                }
                for item in full["items"]
            ]
            editor.patch_invoice(edited["id"], items=items, memo="Edited after posting")
        changes["edited"] = [i["invoiceNumber"] for i in unpaid[1:3]]
        # A new approved invoice, and a draft created then deleted.
        customer = first["id"] and self._full_invoice(first["id"])["customer"]["id"]
        product = self._full_invoice(first["id"])["items"][0]["product"]["id"]
        editor.create_invoice(customer, product, f"ACC-{self.seed}")  # SAVED: approved
        draft = editor.create_invoice(customer, product, f"ACC-{self.seed}-D", approve=False)
        editor.mutate("invoiceDelete", {"invoiceId": draft}, "")
        changes["new_invoice"] = f"ACC-{self.seed}"
        # An account archived after it was mapped.
        account = self._archivable_account()
        editor.mutate("accountArchive", {"id": account["id"]}, "")
        self.archived_account = account
        changes["archived_account"] = account["name"]
        self.result["changes"] = changes

    def _full_invoice(self, invoice_id):
        return self.editor.run(
            "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id "
            "customer { id } items { product { id } quantity unitPrice "
            "taxes { salesTax { id } } } } } }",
            {"b": self.business_id, "i": invoice_id},
        )["business"]["invoice"]

    def _archivable_account(self):
        """An income account Odoo has mapped, that a person may archive in Wave."""
        created = self.editor.mutate(
            "accountCreate",
            {"businessId": self.business_id, "name": "Workshop income", "subtype": "INCOME"},
            "account { id name }",
        )["account"]
        # The poll maps the new account first; archiving it is the change under test.
        self.rpc("wave.api", "action_poll_now", [self.connection_id])
        self._wait_jobs()
        mapped = {
            m["wave_account_id"]
            for m in self.rpc.search_read(
                "wave.account.map",
                [("connection_id", "=", self.connection_id)],
                ["wave_account_id"],
            )
        }
        if created["id"] not in mapped:
            raise AssertionError(f"the poll did not map the new Wave account {created}")
        return created

    def _wait_jobs(self):
        return wait_for_jobs(self.rpc, JOB_TIMEOUT)

    def _sync_changes(self):
        # Webhooks first (the sandbox delivers them in the background), then one poll.
        time.sleep(3)
        self._wait_jobs()
        self.rpc("wave.api", "action_poll_now", [self.connection_id])
        self.result["jobs_after_sync"] = self._wait_jobs()

    # -- 4. observation ----------------------------------------------------------------------
    def _booked_wave_ids(self):
        return {
            m["wave_id"]
            for m in self.rpc.search_read(
                "account.move",
                [("move_type", "=", "out_invoice"), ("wave_id", "!=", False)],
                ["wave_id"],
            )
        }

    def parity(self):
        env = pg_env()
        dsn = (
            f"dbname={self.db} host={env['PGHOST']} port={env['PGPORT']} "
            f"user={env['PGUSER']} password={env['PGPASSWORD']}"
        )
        wave = WaveReader(
            self.sandbox.base + "/graphql/public",
            self.token,
            self.business_id,
            admin_url=self.sandbox.base,
            admin_token=ADMIN_TOKEN,
        )
        with OdooReader(dsn=dsn) as odoo:
            return check_parity(wave, odoo)

    def quarantine(self):
        return self.rpc.search_read(
            "wave.quarantine",
            [("connection_id", "=", self.connection_id), ("state", "in", OPEN)],
            ["id", "name", "record_type", "wave_id", "reasons", "suggested_fix", "payload"],
        )

    def _observe(self):
        """Parity, quarantine and per-case view; JSON-ready."""
        report = self.parity()
        wave = {inv["id"]: inv for inv in self._wave_invoices()}
        numbers = {inv["invoiceNumber"]: gid for gid, inv in wave.items()}
        entries = self.quarantine()
        quarantined = {}
        for entry in entries:
            quarantined.setdefault(entry["wave_id"], []).append(entry)
        differences = [
            dict(row, wave_id=numbers.get(row["key"].split(" ")[0]))
            for row in difference_rows(report)
        ]
        posted = [inv for inv in wave.values() if inv["status"] != "DRAFT"]
        booked = self._booked_wave_ids()
        invoice_entries = [e for e in entries if e["wave_id"] in wave]
        return {
            "wave_invoices": len(wave),
            "wave_posted": len(posted),
            "booked": len([inv for inv in posted if inv["id"] in booked]),
            "booked_ids": sorted(booked),
            "draft_ids": sorted(gid for gid, inv in wave.items() if inv["status"] == "DRAFT"),
            "numbers": {gid: inv["invoiceNumber"] for gid, inv in wave.items()},
            "quarantined_invoices": len({e["wave_id"] for e in invoice_entries}),
            "quarantine_open": len(entries),
            "quarantined_by_reason": dict(
                Counter(reason_kind(e["reasons"]) for e in invoice_entries)
            ),
            "quarantine": [
                {
                    "id": e["id"],
                    "record_type": e["record_type"],
                    "wave_id": e["wave_id"],
                    "number": (wave.get(e["wave_id"]) or {}).get("invoiceNumber"),
                    "currency": ((wave.get(e["wave_id"]) or {}).get("currency") or {}).get("code"),
                    "kind": reason_kind(e["reasons"]),
                    "reasons": e["reasons"],
                    "suggested_fix": e["suggested_fix"],
                }
                for e in entries
            ],
            "differences_by_kind": {
                f"{kind} {record}": n for (kind, record), n in sorted(report.by_kind().items())
            },
            "differences": differences,
            "parity_counts": report.counts,
            "archived_account_in_odoo": self._archived_account_seen(),
        }

    def _archived_account_seen(self):
        """How Odoo's map row of the account archived in Wave looks (SQL, any column
        whose name says archived/active)."""
        account = getattr(self, "archived_account", None)
        if not account:
            return None
        columns = psql(
            self.db,
            "SELECT string_agg(column_name, ',') FROM information_schema.columns "
            "WHERE table_name = 'wave_account_map' AND (column_name LIKE '%archiv%' "
            "OR column_name = 'active')",
        ).split(",")
        columns = [c for c in columns if c]
        if not columns:
            return {"columns": []}
        row = psql(
            self.db,
            f"SELECT {', '.join(columns)} FROM wave_account_map "
            f"WHERE wave_account_id = '{account['id']}'",
        )
        return {"columns": columns, "row": row}

    # -- 5. the fixes --------------------------------------------------------------------------
    def _apply_fixes(self):
        """What the quarantine asks of a person, done through the UI's calls, then replay."""
        entries = self.quarantine()
        applied = Counter()
        for entry in entries:
            kind = reason_kind(entry["reasons"])
            if kind == "currency":
                for code in set(re.findall(r"\b[A-Z]{3}\b", entry["reasons"])):
                    applied[f"currency {code}"] += self._activate_currency(code)
            elif kind == "contact":
                applied["contact"] += self._give_own_contacts()
        ids = [e["id"] for e in self.quarantine()]
        replayed = failed = 0
        for entry_id in ids:
            if not self.rpc.count(
                "wave.quarantine", [("id", "=", entry_id), ("state", "=", "open")]
            ):
                continue  # resolved by the replay of another entry of the same record
            try:
                self.rpc("wave.quarantine", "action_replay", [entry_id])
                replayed += 1
            except Exception as error:  # a replay the addon refuses is a finding, kept
                failed += 1
                self.result.setdefault("replay_errors", []).append(str(error)[:300])
        self._wait_jobs()
        self.result["fixes"] = {"applied": dict(applied), "replayed": replayed, "failed": failed}

    def _activate_currency(self, code):
        rpc = self.rpc
        found = rpc("res.currency", "search", [("name", "=", code)], context={"active_test": False})
        if found:
            rpc("res.currency", "write", found, {"active": True})
            return 1
        if code in self.active_currencies_at_start:
            return 0
        # Not in Odoo at all (a currency only Wave still lists): the accountant adds it.
        rpc(
            "res.currency",
            "create",
            {"name": code, "symbol": code, "rounding": 0.01, "active": True},
        )
        return 1

    def _give_own_contacts(self):
        """Look-alike Wave customers waiting for review: each gets its own new contact
        (different emails: different customers)."""
        rpc = self.rpc
        waiting = rpc.search_read(
            "wave.partner.map",
            [
                ("connection_id", "=", self.connection_id),
                ("wave_type", "=", "customer"),
                ("state", "=", "review"),
            ],
            ["id", "wave_name", "wave_email"],
        )
        for mapping in waiting:
            partner = rpc(
                "res.partner",
                "create",
                {"name": mapping["wave_name"], "email": mapping["wave_email"] or False},
            )
            rpc("wave.partner.map", "write", [mapping["id"]], {"partner_id": partner})
            rpc("wave.partner.map", "action_confirm", [mapping["id"]])
        return len(waiting)
