"""wave_sandbox — a local, faithful fake of Wave's (waveapps.com) public API.

Standalone::

    cd tests && python -m wave_sandbox --host 127.0.0.1 --port 8765 --seed 42 \\
        --state-file /tmp/wave-state.pkl [--rate-limit 60 --rate-window 60 \\
        --admin-token X --demo]

In-process::

    from wave_sandbox import WaveSandbox
    sb = WaveSandbox(seed=42, port=0, state_file=None, rate_limit=60, rate_window=60,
                     access_token_ttl=7200, admin_token="sandbox-admin")
    sb.start()                      # werkzeug WSGI server in a background thread
    sb.base_url, sb.graphql_url, sb.authorize_url, sb.token_url
    sb.state                        # the in-memory store (wave_sandbox.store.State)
    biz = sb.create_business(name="Sandbox Business", currency="USD", country="US",
                             province=None, classic=False, email_send_enabled=True)
    us, ca = sb.seed_demo(invoices_per_business=200, customers=40, vendors=15, years=3)
    token = sb.issue_full_access_token(scopes=None | "invoice:read customer:*",
                                       business_ids=None, ttl=None)
    sb.register_oauth_client(client_id, client_secret, redirect_uris, name=None)
    sb.revoke_tokens(token=None, client_id=None, all=False)
    sb.configure(access_token_ttl=..., rate_limit=..., today="2026-01-31", ...)
    sb.scan_overdue()               # emits invoice.overdue webhooks
    sb.save(path=None)              # persist the state (pickle) now
    sb.reset(seed_demo=False)       # back to an empty store (one user, no businesses)
    sb.stop()                       # also saves when a state_file is configured

Other constructor keywords: ``host``, ``demo`` (seed on a fresh start),
``invoices_per_business``, ``webhook_retry_delays``, ``autosave_interval``,
``max_page_size``.  Admin HTTP API and assumptions: see README.md next to this file.
"""

from .sandbox import WaveSandbox

__all__ = ["WaveSandbox"]
