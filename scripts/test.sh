#!/usr/bin/env bash
# `make test`: a fresh database, then every test (addon and top-level) through
# pytest with pytest-odoo. One exit code; pytest's summary line comes last.
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment
# WAVE_HTTP_PORT: the port of the test server (HttpCase), for runs side by side.
write_odoo_conf "${WAVE_HTTP_PORT:-8069}"

# WAVE_DB_TAG: a word in the name of every database the run creates (runs side by side).
run_id="${WAVE_DB_TAG:+${WAVE_DB_TAG}_}$(date +%s)_$$"
export WAVE_BASE_DB="wave_base_$run_id"
export WAVE_TEMPLATE_DB="wave_tpl_$run_id"
export WAVE_TEST_DB="wave_test_$run_id"
export WAVE_ODOO_CONF="$ODOO_CONF"
cleanup() {
    for db in "$WAVE_TEST_DB" "$WAVE_TEMPLATE_DB" "$WAVE_BASE_DB"; do
        dropdb --if-exists "$db" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

# Three databases: the base (Odoo's apps only; the lifecycle test installs the
# addon into a copy of it), the template (base + addon; the demo test serves a
# copy) and the test database the suite runs in.
install_base_database "$WAVE_BASE_DB"
createdb -T "$WAVE_BASE_DB" "$WAVE_TEMPLATE_DB"
say "Installing wave_accounting_integration into $WAVE_TEMPLATE_DB"
install_addon "$WAVE_TEMPLATE_DB"
createdb -T "$WAVE_TEMPLATE_DB" "$WAVE_TEST_DB"

cd "$ROOT"
set +e
"$PYTHON" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$WAVE_TEST_DB" \
    --odoo-http --odoo-extra=test-enable --odoo-log-level="${WAVE_ODOO_LOG_LEVEL:-error}" "$@"
status=$?
set -e
exit $status
