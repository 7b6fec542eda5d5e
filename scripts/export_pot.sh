#!/usr/bin/env bash
# Regenerate wave_accounting_integration/i18n/wave_accounting_integration.pot:
# Odoo itself exports the addon's translatable terms (fields, views, menus,
# actions, selection values, _() strings) from a throwaway database where the
# addon is installed. One command: `bash scripts/export_pot.sh`.
# Then translate the new terms in i18n/*.po (msgmerge, or any PO editor).
set -euo pipefail
source "$(dirname "$0")/env.sh"
prepare_environment
ODOO_CONF="$CACHE/odoo-export-pot.conf"
write_odoo_conf 8069  # no server is started: the port is unused

ADDON=wave_accounting_integration
POT="$ROOT/$ADDON/i18n/$ADDON.pot"
db="wave_i18n_$(date +%s)_$$"
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true' EXIT

install_base_database "$db"
say "Installing $ADDON into $db"
install_addon "$db"
mkdir -p "$(dirname "$POT")"
say "Exporting the translatable terms to $POT"
odoo_bin -c "$ODOO_CONF" -d "$db" --i18n-export="$POT" --modules="$ADDON" \
    --stop-after-init --log-level=warn
say "Wrote $POT ($(grep -c '^msgid ' "$POT") terms)"
