"""Export CSV, deterministic generator, persistence, reset, standalone CLI."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal

import pytest
import requests

from wave_sandbox import WaveSandbox
from wave_sandbox.export import DEFAULT_COLUMNS, export_csv

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_export_csv_balanced_with_bills_and_expenses(demo, api):
    b = demo["us"]
    r = api.admin("GET", f"export?businessId={b.id}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0].keys()) == DEFAULT_COLUMNS
    per_tx = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for row in rows:
        acc = per_tx[row["Transaction ID"]]
        acc[0] += Decimal(row["Debit Amount"] or 0)
        acc[1] += Decimal(row["Credit Amount"] or 0)
        acc[2] += Decimal(row["Amount (One column)"])
    assert per_tx and all(d == c and one == 0 for d, c, one in per_tx.values())
    descriptions = {row["Transaction Description"] for row in rows}
    assert any(d.startswith("Bill ") for d in descriptions)
    assert any(d.startswith("Payment of bill") for d in descriptions)
    assert any(d.startswith("Card processing fee") for d in descriptions)
    assert any(row["Vendor"] for row in rows) and any(row["Bill Number"] for row in rows)
    taxed = [row for row in rows if row["Sales Tax Amount"]]
    assert taxed and all(row["Sales Tax Name"] for row in taxed)
    approved = sum(1 for i in b.invoices if i.approved)
    assert (
        len(
            {
                row["Invoice Number"]
                for row in rows
                if row["Transaction Description"].startswith("Invoice ")
            }
        )
        == approved
    )
    assert {row["Account Group"] for row in rows} <= {
        "Asset",
        "Liability",
        "Equity",
        "Income",
        "Expense",
    }


def test_export_columns_and_dates(demo, api):
    b = demo["ca"]
    cols = "Transaction Date,Account Name,Debit Amount,Credit Amount"
    r = api.admin("GET", f"export?businessId={b.id}&columns={cols}&start=2025-01-01&end=2025-06-30")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0].keys()) == cols.split(",")
    assert all("2025-01-01" <= row["Transaction Date"] <= "2025-06-30" for row in rows)
    bad = api.admin("GET", f"export?businessId={b.id}&columns=Nope")
    assert bad.status_code == 400


def test_generator_is_deterministic_and_rich():
    a, b = WaveSandbox(seed=7), WaveSandbox(seed=7)
    ua, ca = a.seed_demo(invoices_per_business=60)
    ub, _ = b.seed_demo(invoices_per_business=60)
    assert ua.id == ub.id
    assert [(i.id, i.invoice_number, i.total_minor, i.paid_minor) for i in ua.invoices] == [
        (i.id, i.invoice_number, i.total_minor, i.paid_minor) for i in ub.invoices
    ]
    c = WaveSandbox(seed=8)
    assert c.seed_demo(invoices_per_business=5)[0].id != ua.id
    statuses = {i.status for biz in (ua, ca) for i in biz.invoices}
    assert {"DRAFT", "PAID", "PARTIAL", "OVERDUE"} <= statuses
    assert any(i.currency_code != biz.currency_code for biz in (ua, ca) for i in biz.invoices)
    assert any(i.discounts for i in ua.invoices)
    assert {t.abbreviation for t in ca.sales_taxes} == {"GST", "HST", "PST"}
    years = {i.invoice_date.year for i in ua.invoices}
    assert len(years) >= 3
    assert ua.extra_transactions and any(t.kind == "bill" for t in ua.extra_transactions)


@pytest.mark.parametrize("name", ["state.json", "state.pkl"])
def test_persistence_and_reset(tmp_path, name):
    path = str(tmp_path / name)
    sb = WaveSandbox(seed=3, state_file=path, autosave_interval=0).start()
    biz = sb.seed_demo(invoices_per_business=10)[0]
    tok = sb.issue_full_access_token()
    sb.register_oauth_client("c", "s", ["http://x/cb"])
    sb.stop()
    assert os.path.exists(path)
    sb2 = WaveSandbox(seed=99, state_file=path).start()
    try:
        r = requests.post(
            sb2.graphql_url,
            json={"query": "{ business { id invoices { pageInfo { totalCount } } } }"},
            headers={"Authorization": f"Bearer {tok}"},
            timeout=5,
        ).json()
        assert r["data"]["business"]["id"] == biz.id
        assert r["data"]["business"]["invoices"]["pageInfo"]["totalCount"] == 10
        assert "c" in sb2.state.oauth_clients
        b2 = sb2.state.businesses[0]
        assert [(i.id, i.status, i.total_minor, i.paid_minor) for i in b2.invoices] == [
            (i.id, i.status, i.total_minor, i.paid_minor) for i in biz.invoices
        ]
        assert export_csv(b2) == export_csv(biz)
        # admin save + reset
        adm = {"X-Sandbox-Admin-Token": "sandbox-admin"}
        assert requests.post(sb2.base_url + "/sandbox/save", headers=adm, timeout=5).ok
        r = requests.post(sb2.base_url + "/sandbox/reset", headers=adm, json={}, timeout=5)
        assert r.json()["businesses"] == []
        r = requests.post(
            sb2.base_url + "/sandbox/seed",
            headers=adm,
            json={"invoices_per_business": 5},
            timeout=5,
        )
        assert len(r.json()["businesses"]) == 2
    finally:
        sb2.stop()


def test_standalone_cli(tmp_path):
    path = str(tmp_path / "cli.pkl")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wave_sandbox",
            "--port",
            "0",
            "--seed",
            "42",
            "--state-file",
            path,
            "--demo",
            "--invoices",
            "20",
            "--admin-token",
            "X",
        ],
        cwd=TESTS_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("Business" in x for x in lines):
            lines.append(proc.stdout.readline())
        out = "".join(lines)
        base = out.split("listening on ")[1].split()[0]
        token = out.split("Full-access token: ")[1].split()[0]
        assert "OAuth client id: sandbox-client" in out
        r = requests.post(
            base + "/graphql/public",
            json={"query": "{ businesses { pageInfo { totalCount } } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert r.json()["data"]["businesses"]["pageInfo"]["totalCount"] == 2
        assert requests.get(
            base + "/sandbox/state", headers={"X-Sandbox-Admin-Token": "X"}, timeout=5
        ).ok
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert os.path.exists(path)  # state written on shutdown
