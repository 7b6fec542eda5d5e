#!/usr/bin/env bash
# `make bench`: benchmark scripts that print figures (never timed assertions in tests),
# then one summary table of issue 10's targets with verdicts (tests/bench/summary.py).
# `make bench ARGS=--full` runs the issue's full sizes (hours).
# The Odoo benchmarks copy one database upgraded here once from `wave_dev` (created
# when missing) and drop their copies; it is dropped at the end.
# Smaller runs (smoke tests): BENCH_SYNC_ARGS, BENCH_WEBHOOK_ARGS, BENCH_MEMORY_ARGS,
# BENCH_CLIENT_ARGS, BENCH_SANDBOX_ARGS, BENCH_COMPANIES_ARGS, BENCH_ESTIMATES_ARGS are added to each script's arguments, e.g.
#   BENCH_SYNC_ARGS="--invoices 60 --export 40" BENCH_MEMORY_ARGS="--sizes 40 320" make bench
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment
write_odoo_conf 8069
if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'wave_dev'" | grep -q 1; then
    install_base_database wave_dev
    install_addon wave_dev
fi
cd "$ROOT"
started=$(date +%s)
template="bench_template_$$"
# The shared test harness (tests/harness) copies, upgrades and drops the databases.
harness() {
    "$PYTHON" -c "import sys; sys.path.insert(0, 'tests'); import harness; $1"
}
trap 'harness "harness.drop_database(\"$template\")"' EXIT
echo "== upgrading a copy of wave_dev: $template" >&2
harness "harness.prepare_database(\"$template\", \"wave_dev\")"

status=0
run() {
    echo "== $* ($(date +%H:%M:%S))" >&2
    "$PYTHON" "$@" || { status=1; echo "== FAILED: $1" >&2; }
}
odoo_args=(--template "$template" --no-upgrade)
# shellcheck disable=SC2086  # the BENCH_*_ARGS are word lists
{
    run tests/bench/bench_sandbox.py "$@" ${BENCH_SANDBOX_ARGS:-}
    run tests/bench/bench_client.py "$@" ${BENCH_CLIENT_ARGS:-}
    # requests per record, poll, export (the throughput comparison is bench_import's)
    run tests/bench/bench_sync.py "${odoo_args[@]}" --invoices 500 "$@" ${BENCH_SYNC_ARGS:-}
    # issue 18: import vs the fair baseline (2,000 invoices, median of 3, fresh copies),
    # then the 10,000-invoice history through the job runner
    run tests/bench/bench_import.py "${odoo_args[@]}" --invoices 2000 ${BENCH_IMPORT_ARGS:-}
    run tests/bench/bench_import.py "${odoo_args[@]}" --large 10000 ${BENCH_LARGE_ARGS:-}
    # issue 20: Wave estimates imported as quotations vs the raw ORM, requests per estimate
    run tests/bench/bench_estimates.py "${odoo_args[@]}" --estimates 50 ${BENCH_ESTIMATES_ARGS:-}
    run tests/bench/bench_webhook.py "${odoo_args[@]}" "$@" ${BENCH_WEBHOOK_ARGS:-}
    # issue 10's peak RSS 1k vs 8k in one process: only with --full (the large history
    # above measures the job workers' RSS growth)
    if [[ " $* " == *" --full "* ]]; then
        run tests/bench/bench_memory.py "${odoo_args[@]}" "$@" ${BENCH_MEMORY_ARGS:-}
    fi
    run tests/bench/bench_companies.py "${odoo_args[@]}" "$@" ${BENCH_COMPANIES_ARGS:-}
}
"$PYTHON" scripts/bench_table.py || status=1
"$PYTHON" tests/bench/summary.py --since "$started" --elapsed "$(($(date +%s) - started))" \
    || status=1
exit $status
