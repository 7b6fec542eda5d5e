"""``python -m wave_sandbox`` — run the sandbox until SIGTERM or SIGINT (Ctrl-C).

Either signal stops it cleanly (state saved, port released) within a second or
two, also when its parent started it with SIGINT ignored (a background job of a
shell script). The banner's last line, ``Wave sandbox ready``, tells a driver
that everything above it (token, businesses) is printed and the port answers.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time

from .sandbox import WaveSandbox
from .store import business_estimates

DEFAULT_REDIRECT_URIS = [
    "http://localhost:8069/wave/oauth/callback",
    "http://127.0.0.1:8069/wave/oauth/callback",
]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="wave_sandbox", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--state-file", default=None)
    p.add_argument("--rate-limit", type=int, default=60, help="requests per window; 0 = off")
    p.add_argument("--rate-window", type=float, default=60)
    p.add_argument("--access-token-ttl", type=float, default=7200)
    p.add_argument("--admin-token", default="sandbox-admin")
    p.add_argument("--demo", action="store_true", help="seed demo data on a fresh state")
    p.add_argument("--invoices", type=int, default=200, help="demo invoices per business")
    p.add_argument(
        "--estimates", type=int, default=18, help="demo estimates per business (every status)"
    )
    p.add_argument("--realistic", action="store_true", help="demo data with real books' cases")
    p.add_argument("--client-id", default="sandbox-client")
    p.add_argument("--client-secret", default="sandbox-secret")
    p.add_argument(
        "--redirect-uri",
        action="append",
        default=None,
        help="OAuth redirect URI of the client (repeatable; replaces those of a saved state)",
    )
    args = p.parse_args(argv)
    # A shell starts a background job with SIGINT ignored, and Python then keeps
    # ignoring it: Ctrl-C must stop the sandbox all the same.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    t0 = time.perf_counter()
    sb = WaveSandbox(
        seed=args.seed,
        port=args.port,
        host=args.host,
        state_file=args.state_file,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        access_token_ttl=args.access_token_ttl,
        admin_token=args.admin_token,
        demo=args.demo,
        invoices_per_business=args.invoices,
        realistic=args.realistic,
        estimates_per_business=args.estimates,
    )
    if args.redirect_uri or args.client_id not in sb.state.oauth_clients:
        sb.register_oauth_client(
            args.client_id, args.client_secret, args.redirect_uri or DEFAULT_REDIRECT_URIS
        )
    token = sb.issue_full_access_token()
    sb.start()
    client = sb.state.oauth_clients[args.client_id]
    print(f"Wave sandbox listening on {sb.base_url}  (ready in {time.perf_counter() - t0:.1f}s)")
    print(f"  GraphQL:        {sb.graphql_url}")
    print(f"  OAuth authorize:{sb.authorize_url}")
    print(f"  OAuth token:    {sb.token_url}")
    print(f"  Full-access token: {token}")
    print(f"  OAuth client id: {client['client_id']}  secret: {client['client_secret']}")
    print(f"  Redirect URIs:  {', '.join(client['redirect_uris'])}")
    print(f"  Admin token (X-Sandbox-Admin-Token): {args.admin_token}")
    for b in sb.state.businesses:
        print(
            f"  Business {b.name} ({b.currency_code}): {b.id}  "
            f"estimates={len(business_estimates(b))}  invoices={len(b.invoices)}"
        )
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    print("Wave sandbox ready (SIGTERM or Ctrl-C stops it)", flush=True)
    while not done.wait(0.5):
        pass
    sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
