"""The sync's binding writes leave the journal items of an invoice alone.

On a server, each job runs in its own transaction on committed rows. There a plain
``write`` of the binding fields (Wave id, origin, last change) on a posted invoice wrote
a new version of every one of its journal items, and an accountant who was paying the same
invoices in one long request met rows changed under it: Odoo retried the request, then
gave up with "could not serialize access due to concurrent update" (seen in the full-size
fault matrix's 429 scenario). Inside one test transaction Odoo writes nothing of the kind,
so this is checked on committed rows, each write in a transaction of its own (``odoo
shell`` on a copy of the test template), by the row versions PostgreSQL keeps (``ctid``).
"""

import json

from harness import ScratchDatabase, harness_env, run_odoo

MARK = "BINDING-WRITES:"
SCRIPT = r"""
import datetime, json
from odoo import SUPERUSER_ID, api

partner = env["res.partner"].create({"name": "Binding check"})
product = env["product.product"].create({"name": "Binding check", "list_price": 10})
tax = env["account.tax"].search([("type_tax_use", "=", "sale")], limit=1)
moves = env["account.move"].create([
    {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "invoice_date": datetime.date.today(),
        "invoice_line_ids": [(0, 0, {
            "product_id": product.id, "quantity": 3, "price_unit": 19.99, "discount": 10,
            "tax_ids": [(6, 0, tax.ids)],
        })],
    }
    for _n in range(3)
])
moves.action_post()
company_id = env.company.id
env.cr.commit()


def binding(e, move):
    connection = e["wave.api"].new({"company_id": company_id})
    e["wave.outbound.ledger.service"]._bind_write(
        connection, move,
        {"wave_id": f"check-{move.id}", "wave_origin": "odoo",
         "wave_modified_at": datetime.datetime.now()},
    )


def plain(e, move):
    move.write({"wave_modified_at": datetime.datetime.now()})


def versions(cr, move_id):
    cr.execute("SELECT id, ctid::text FROM account_move_line WHERE move_id = %s", [move_id])
    return dict(cr.fetchall())


result = {}
# each write in a transaction of its own, on committed rows, as a job makes it
for name, write, move in (("binding", binding, moves[0]), ("binding again", binding, moves[0]),
                          ("plain write", plain, moves[1])):
    with env.registry.cursor() as cr:
        e = api.Environment(cr, SUPERUSER_ID, {})
        before = versions(cr, move.id)
        write(e, e["account.move"].browse(move.id))
        e.flush_all()
        after = versions(cr, move.id)
        cr.execute("SELECT wave_id FROM account_move WHERE id = %s", [move.id])
        result[name] = {
            "lines": len(before),
            "rewritten": sum(1 for line, ctid in before.items() if after[line] != ctid),
            "wave_id": cr.fetchone()[0],
        }
print("BINDING-WRITES:" + json.dumps(result))
"""


def test_binding_writes_leave_the_journal_items_alone():
    with ScratchDatabase(harness_env("WAVE_TEMPLATE_DB"), prefix="wave_bindings") as db:
        output = run_odoo(
            "shell", "-c", harness_env("WAVE_ODOO_CONF"), "-d", db, "--no-http",
            "--log-level=warn", input_text=SCRIPT, timeout=600,
        ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith(MARK))
    result = json.loads(line[len(MARK) :])
    # The check sees a rewrite: a plain write of the same field rewrites every line.
    assert result["plain write"]["rewritten"] == result["plain write"]["lines"] > 0, result
    for name in ("binding", "binding again"):
        assert result[name]["wave_id"], result  # the binding was written ...
        assert result[name]["rewritten"] == 0, result  # ... and no journal item
