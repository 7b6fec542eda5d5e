# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The attack table of the security tests, counted by the tests themselves.

Each security test calls :func:`record` once per attempt, with what it observed
from outside (the HTTP status, the exception the ORM raised, the rows compared
before and after); :func:`flush` merges the counts into
``artifacts/security.json`` (one run of ``make test`` per file: a new run,
told by its test database name, starts the file again).
``scripts/security_table.py`` turns it into the closing note's table and
``docs/results/security.json``.

Outcomes of an attempt:

* ``refused``: answered with an error (AccessError/UserError/ValidationError,
  a 4xx) and the database unchanged;
* ``accepted``: the operation is allowed for that role and company and worked;
* ``server_error``: a 5xx or an unexpected exception;
* ``leak``: the database changed after a refusal, or the answer carried data
  of another company or a secret.
"""

import json
import os
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("WAVE_SECURITY_RESULTS") or ROOT / "artifacts" / "security.json")
OUTCOMES = ("refused", "accepted", "server_error", "leak")

_lock = threading.Lock()
_counts = {}


def record(attack, outcome, count=1):
    """Count ``count`` attempts of ``attack`` that ended in ``outcome``."""
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    with _lock:
        row = _counts.setdefault(attack, dict.fromkeys(OUTCOMES, 0))
        row[outcome] += count


def classify(refused, changed=False, status=None):
    """The outcome of one attempt from what was observed."""
    if status is not None and status >= 500:
        return "server_error"
    if changed:
        return "leak"
    return "refused" if refused else "accepted"


def flush():
    """Merge the counts so far into the run's file (and forget them)."""
    run = os.environ.get("WAVE_TEST_DB") or "manual"
    with _lock:
        if not _counts:
            return
        data = {"run": run, "attacks": {}}
        if OUTPUT.exists():
            try:
                previous = json.loads(OUTPUT.read_text())
            except ValueError:
                previous = {}
            if previous.get("run") == run:
                data = previous
        for attack, row in _counts.items():
            merged = data["attacks"].setdefault(attack, dict.fromkeys(OUTCOMES, 0))
            for outcome, value in row.items():
                merged[outcome] = merged.get(outcome, 0) + value
        _counts.clear()
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        OUTPUT.write_text(json.dumps(data, indent=2, sort_keys=True))


class TallyMixin:
    """Test classes that count attacks write them when the class ends."""

    @classmethod
    def tearDownClass(cls):
        flush()
        super().tearDownClass()
