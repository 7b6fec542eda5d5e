#!/usr/bin/env bash
# `make bench`: benchmark scripts that print figures (never timed assertions in tests).
set -euo pipefail
cd "$(dirname "$0")/.."
for script in tests/bench/bench_*.py; do
    echo "== $script" >&2
    python3 "$script" "$@"
done
