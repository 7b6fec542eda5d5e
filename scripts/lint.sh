#!/usr/bin/env bash
# ruff and pylint-odoo (both from PyPI, no pre-commit git downloads). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
echo "[lint] ruff check" >&2
python3 -m ruff check wave_accounting_integration tests scripts conftest.py || status=1
echo "[lint] ruff format --check" >&2
python3 -m ruff format --check wave_accounting_integration tests scripts conftest.py || status=1
echo "[lint] pylint-odoo" >&2
python3 -m pylint --rcfile=.pylintrc wave_accounting_integration || status=1
exit $status
