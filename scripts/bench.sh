#!/usr/bin/env bash
# `make bench`: benchmark scripts that print figures (never timed assertions in tests).
# The Odoo benchmarks copy the database `wave_dev` (created here when missing) and
# upgrade the addon in their copy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment
write_odoo_conf 8069
if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'wave_dev'" | grep -q 1; then
    install_base_database wave_dev
    install_addon wave_dev
fi
cd "$ROOT"
for script in tests/bench/bench_*.py; do
    echo "== $script" >&2
    "$PYTHON" "$script" "$@"
done
