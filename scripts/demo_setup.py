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
if not env["wave.sync.job"].search_count([("connection_id", "=", connection.id)]):
    connection._enqueue_poll(trigger="manual")
env.cr.commit()
print(f"Connected {connection.company_id.name} to {business['name']} in the Wave sandbox")
