#!/usr/bin/env bash
# `make test`: a fresh database, then every test (addon and top-level) through
# pytest with pytest-odoo. One exit code; pytest's summary line comes last.
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment
write_odoo_conf 8069

run_id="$(date +%s)_$$"
export WAVE_TEMPLATE_DB="wave_tpl_$run_id"
export WAVE_TEST_DB="wave_test_$run_id"
export WAVE_ODOO_CONF="$ODOO_CONF"
cleanup() {
    for db in "$WAVE_TEST_DB" "$WAVE_TEMPLATE_DB"; do
        dropdb --if-exists "$db" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

install_database "$WAVE_TEMPLATE_DB"
# Tests run on a copy: the template stays pristine for the tests that need a
# database of their own (upgrade/uninstall, the demo server).
createdb -T "$WAVE_TEMPLATE_DB" "$WAVE_TEST_DB"

cd "$ROOT"
set +e
"$PYTHON" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$WAVE_TEST_DB" \
    --odoo-http --odoo-log-level="${WAVE_ODOO_LOG_LEVEL:-error}" "$@"
status=$?
set -e
exit $status
