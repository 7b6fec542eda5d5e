"""Helpers for the tests that drive Odoo as a separate process (lifecycle, demo)."""

import os
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def harness_env(name):
    """A value `make test` exports; missing means pytest was started by hand."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `make test`.")
    return value


def run(cmd, *, input_text=None, timeout=600):
    """Run a command; fail the test with its output when it fails."""
    completed = subprocess.run(
        cmd,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    if completed.returncode:
        pytest.fail(
            f"{' '.join(cmd)} exited {completed.returncode}\n"
            f"--- stdout ---\n{completed.stdout[-4000:]}\n"
            f"--- stderr ---\n{completed.stderr[-4000:]}"
        )
    return completed


def odoo(*args, **kwargs):
    return run([sys.executable, "-m", "odoo", *args], **kwargs)


def psql(sql, db="postgres"):
    return run(["psql", "-d", db, "-tAc", sql]).stdout.strip()


class ScratchDatabase:
    """A throwaway copy of one of the harness databases, dropped afterwards."""

    def __init__(self, template):
        self.template = template
        self.name = f"wave_scratch_{uuid.uuid4().hex[:10]}"

    def __enter__(self):
        run(["createdb", "-T", self.template, self.name])
        return self.name

    def __exit__(self, *exc):
        subprocess.run(
            ["dropdb", "--if-exists", "--force", self.name], capture_output=True, check=False
        )
