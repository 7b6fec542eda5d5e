"""PostgreSQL for the tests: ``psql``, copies of a template database, dropped afterwards."""

import os
import subprocess
import uuid

from .env import MODULE, odoo_conf, pg_env
from .odoo_server import run_odoo
from .processes import run_checked


def psql(db, sql):
    """The rows of ``sql`` in ``db``, unaligned (``|`` between columns), stripped."""
    return run_checked(["psql", "-X", "-At", "-d", db, "-c", sql], env=pg_env()).stdout.strip()


def copy_database(template, name):
    """``name``: a fresh copy of ``template`` (dropped first if it exists)."""
    drop_database(name)
    run_checked(["createdb", "-T", template, name], env=pg_env())


def drop_database(name):
    """Drop ``name`` if it exists, also while something is still connected to it."""
    subprocess.run(
        ["dropdb", "--if-exists", "--force", name],
        env=pg_env(),
        capture_output=True,
        check=False,
    )


def prepare_database(db, template, upgrade=True):
    """A fresh copy of ``template`` named ``db`` with this checkout's addon code (``-u``)."""
    copy_database(template, db)
    if upgrade:
        run_odoo(
            "-c", odoo_conf(), "-d", db, "-u", MODULE, "--stop-after-init", "--log-level=warn",
            timeout=1800,
        )  # fmt: skip


class ScratchDatabase:
    """A throwaway copy of ``template`` for one ``with`` block, dropped afterwards."""

    def __init__(self, template, prefix="wave_scratch"):
        self.template = template
        tag = os.environ.get("WAVE_DB_TAG")  # make test's, in every database's name
        prefix = f"{prefix}_{tag}" if tag else prefix
        self.name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    def __enter__(self):
        copy_database(self.template, self.name)
        return self.name

    def __exit__(self, *exc):
        drop_database(self.name)
