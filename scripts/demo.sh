#!/usr/bin/env bash
# `make demo`: PostgreSQL, a database with the addon, the Wave sandbox with
# demo data, the connection configured to it, and Odoo on http://localhost:8069
# with the queue_job runner (server_wide_modules=web,queue_job, 2 workers).
#
# Knobs (environment): WAVE_DEMO_DATA (realistic: the awkward cases of real books,
# see tests/wave_sandbox/realistic.py; plain: the simple generated data),
# WAVE_DEMO_INVOICES (200 per Wave business), WAVE_DEMO_DB (wave_demo), WAVE_DEMO_PORT (8069),
# WAVE_DEMO_GEVENT_PORT (8072, Odoo's real-time websocket port), WAVE_DEMO_ODOO_PORT
# (WAVE_DEMO_PORT + 1: Odoo's own HTTP port behind the demo's front door),
# WAVE_SANDBOX_PORT (8765), WAVE_DEMO_TEMPLATE (copy this database instead of
# installing; used by the tests).
#
# The browser talks to WAVE_DEMO_PORT, served by scripts/demo_proxy.py as nginx
# does in production: /websocket to the gevent port, the rest to Odoo's HTTP port
# (Odoo's HTTP workers refuse the websocket: "Real-time connection lost").
#
# Stopping it (Ctrl-C, or TERM to this script) stops the sandbox and Odoo with it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment

db="${WAVE_DEMO_DB:-wave_demo}"
port="${WAVE_DEMO_PORT:-8069}"
gevent_port="${WAVE_DEMO_GEVENT_PORT:-8072}"
odoo_port="${WAVE_DEMO_ODOO_PORT:-$((port + 1))}"
sandbox_port="${WAVE_SANDBOX_PORT:-8765}"
export WAVE_DEMO_DATA="${WAVE_DEMO_DATA:-realistic}"
invoices="${WAVE_DEMO_INVOICES:-200}"
case "$WAVE_DEMO_DATA" in
    realistic) data_args=(--realistic) ;;
    plain) data_args=() ;;
    *) die "WAVE_DEMO_DATA is '$WAVE_DEMO_DATA': use realistic (the default) or plain." ;;
esac
# The sandbox's OAuth client, as the demo connection knows it.
export WAVE_SANDBOX_CLIENT_ID="${WAVE_SANDBOX_CLIENT_ID:-sandbox-client}"
export WAVE_SANDBOX_CLIENT_SECRET="${WAVE_SANDBOX_CLIENT_SECRET:-sandbox-secret}"
ODOO_CONF="$CACHE/odoo-demo-$port.conf"
write_odoo_conf "$odoo_port"

if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    if [ -n "${WAVE_DEMO_TEMPLATE:-}" ]; then
        createdb -T "$WAVE_DEMO_TEMPLATE" "$db"
    else
        install_base_database "$db"
        install_addon "$db"
    fi
fi

# The children started below, stopped when this script ends for any reason. Each
# PID is the real process, never a subshell. TERM stops the sandbox, and Odoo
# gracefully (its workers finish their request); a second TERM makes Odoo stop its
# workers at once; KILL for whatever is left after that.
pids=()
children_alive() {
    local pid
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}
wait_children() { # $1: how long, in tenths of a second
    for _ in $(seq 1 "$1"); do children_alive || return 0; sleep 0.1; done
    return 1
}
cleanup() {
    trap - EXIT INT TERM
    [ "${#pids[@]}" -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait_children 80 && return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait_children 50 && return 0
    local pid
    for pid in "${pids[@]}"; do
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -d "$ROOT/tests/wave_sandbox" ]; then
    # One saved sandbox per kind of data and size: the data is seeded on a fresh state only.
    state="$CACHE/sandbox-state-$sandbox_port-$WAVE_DEMO_DATA-$invoices.json"
    say "Seeding the Wave sandbox with $WAVE_DEMO_DATA demo data ($invoices invoices per business; WAVE_DEMO_DATA=plain for the simple data)"
    (cd "$ROOT/tests" && exec "$PYTHON" -m wave_sandbox --host 127.0.0.1 --port "$sandbox_port" \
        --seed 42 --state-file "$state" --demo --invoices "$invoices" "${data_args[@]}" --admin-token "${WAVE_SANDBOX_ADMIN_TOKEN:-sandbox-admin}" \
        --client-id "$WAVE_SANDBOX_CLIENT_ID" --client-secret "$WAVE_SANDBOX_CLIENT_SECRET" \
        --redirect-uri "http://localhost:$port/wave/oauth/callback" \
        --redirect-uri "http://127.0.0.1:$port/wave/oauth/callback") \
        > "$CACHE/sandbox-$sandbox_port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 50); do
        "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $sandbox_port), 1)" \
            >/dev/null 2>&1 && break
        sleep 0.2
    done
    say "Wave sandbox on http://127.0.0.1:$sandbox_port (log: $CACHE/sandbox-$sandbox_port.log)"
    WAVE_SANDBOX_URL="http://127.0.0.1:$sandbox_port" \
        odoo_bin shell -c "$ODOO_CONF" -d "$db" --no-http --log-level=warn \
        < "$ROOT/scripts/demo_setup.py" || die "Configuring the demo connection failed."
fi

say "Odoo: http://localhost:$port  login: admin  password: admin  (database $db)"
# The front door (before Odoo, so that Odoo's PID is the last one): the browser's
# websocket to the gevent port, every other request to Odoo's HTTP port.
"$PYTHON" "$ROOT/scripts/demo_proxy.py" "$port" "$odoo_port" "$gevent_port" &
pids+=($!)
# Odoo's own entry point started directly (not through a function, which would
# run in a subshell): $! is Odoo's main process, the one cleanup must stop.
odoo_entry="$(odoo_entry_point)"
[ -n "$odoo_entry" ] || die "Neither the 'odoo' console script nor odoo-bin was found for $PYTHON."
"$odoo_entry" -c "$ODOO_CONF" -d "$db" --db-filter="^$db\$" --workers=2 --max-cron-threads=1 \
    --gevent-port="$gevent_port" --load=base,web,queue_job &
pids+=($!)
wait "${pids[-1]}"
