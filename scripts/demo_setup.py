# Run by scripts/demo.sh inside `odoo shell` (``env`` is given): connect the
# demo company to the local Wave sandbox and queue a first import so the
# dashboard has data. Idempotent: running it again refreshes the token.
import json
import os
import urllib.request

base = os.environ["WAVE_SANDBOX_URL"]
admin_token = os.environ.get("WAVE_SANDBOX_ADMIN_TOKEN", "sandbox-admin")


def call(path, payload=None, headers=None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST" if payload is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


token = call("/sandbox/tokens", {}, {"X-Sandbox-Admin-Token": admin_token})["access_token"]
businesses = call(
    "/graphql/public",
    {"query": "{ businesses { edges { node { id name currency { code } } } } }"},
    {"Authorization": f"Bearer {token}"},
)["data"]["businesses"]["edges"]
business = next(
    (edge["node"] for edge in businesses if edge["node"]["currency"]["code"] == "USD"),
    businesses[0]["node"],
)
connection = env["wave.api"]._get_or_create_for_company(env.ref("base.main_company"))
connection.write(
    {
        "name": "Wave sandbox (demo)",
        "auth_method": "token",
        "full_access_token": token,
        "api_url": base + "/graphql/public",
        "authorize_url": base + "/oauth2/authorize/",
        "token_url": base + "/oauth2/token/",
        "allow_insecure_loopback": True,
        "business_id": business["id"],
        "business_name": business["name"],
        "business_currency": business["currency"]["code"],
        # the sandbox's OAuth client (scripts/demo.sh registers it with this port's
        # redirect URIs), so that "Connect to Wave" with OAuth works too
        "client_id": os.environ.get("WAVE_SANDBOX_CLIENT_ID", "sandbox-client"),
        "client_secret": os.environ.get("WAVE_SANDBOX_CLIENT_SECRET", "sandbox-secret"),
        "state": "connected",
    }
)
# Realistic data: the company already has a customer in Odoo, whom several Wave
# customers' names look like; none of them may silently become that one contact.
EXISTING_CUSTOMER = "Acme Widgets Inc"
realistic = os.environ.get("WAVE_DEMO_DATA", "realistic") == "realistic"
if realistic and not env["res.partner"].search_count([("name", "=", EXISTING_CUSTOMER)]):
    env["res.partner"].create({"name": EXISTING_CUSTOMER, "is_company": True, "customer_rank": 1})
if not env["wave.sync.job"].search_count([("connection_id", "=", connection.id)]):
    connection._enqueue_poll(trigger="manual")
env.cr.commit()
print(f"Connected {connection.company_id.name} to {business['name']} in the Wave sandbox")


def business_currencies():
    """The currencies the business's invoices are in, read from the sandbox."""
    codes, page = set(), 1
    while True:
        data = call(
            "/graphql/public",
            {
                "query": "query($b: ID!, $p: Int!) { business(id: $b) { invoices(page: $p, "
                "pageSize: 200) { pageInfo { totalPages } "
                "edges { node { currency { code } } } } } }",
                "variables": {"b": business["id"], "p": page},
            },
            {"Authorization": f"Bearer {token}"},
        )["data"]["business"]["invoices"]
        codes |= {edge["node"]["currency"]["code"] for edge in data["edges"]}
        if page >= data["pageInfo"]["totalPages"]:
            return codes
        page += 1


def what_you_will_see():
    """The demo's first screen, explained before the user opens it."""
    lines = ["What you will see: the first import runs in the background (Wave > Dashboard)."]
    if not realistic:
        lines.append("Simple generated data (WAVE_DEMO_DATA=plain): every invoice is booked.")
        return lines
    Currency = env["res.currency"].with_context(active_test=False)
    codes = business_currencies() - {connection.company_id.currency_id.name}
    known = Currency.search([("name", "in", sorted(codes))])
    inactive = sorted(known.filtered(lambda c: not c.active).mapped("name"))
    absent = sorted(codes - set(known.mapped("name")))
    policy = dict(connection._fields["currency_policy"]._description_selection(env))
    lines += [
        "Realistic data, as real Wave books hold it: fractional quantities, prices with 3 to 5 "
        "decimals, two or three taxes on a line, discounts, invoices in foreign currencies, "
        "refunds, voided payments, archived accounts, products and taxes, look-alike customers.",
        f"- Odoo already has the customer '{EXISTING_CUSTOMER}', and several Wave customers' "
        "names look alike ('Acme Widgets', 'ACME Widgets, Inc.', 'acme widgets inc'): two Wave "
        "customers never silently become one contact, so one is linked to it and the others "
        "wait for you in Wave > Review > Contacts (To review), their invoices in "
        "Wave > Review > Quarantine until you confirm a contact. Other look-alikes with no "
        "contact in Odoo ('Café Déjà Vu' and 'Cafe Deja Vu') each get their own contact.",
        "- Wave's vendors wait in Wave > Review > Contacts too: by default a vendor Odoo does "
        "not know waits for review (Wave > Configuration > Settings).",
    ]
    if inactive:
        lines.append(
            f"- Invoices in {', '.join(inactive)} (currencies Odoo ships inactive): currency "
            f"policy '{policy[connection.currency_policy]}' (Wave > Configuration > Settings)"
            + (
                ", so the import activates them and books the invoices."
                if connection.currency_policy == "activate"
                else ": they wait in the quarantine until you activate the currency."
            )
        )
    if absent:
        lines.append(
            f"- Invoices in {', '.join(absent)} (a currency Odoo does not have) wait in "
            "Wave > Review > Quarantine until you add that currency in Odoo, then replay them."
        )
    lines.append(
        "Everything else is booked to the cent (check it: Wave dashboard, Compare with Wave)."
    )
    return lines


print("\n".join(what_you_will_see()))
