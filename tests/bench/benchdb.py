"""Shared by the Odoo benchmarks: PostgreSQL settings, throwaway databases, ports."""

import configparser
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / ".cache" / "odoo.conf"
MODULE = "wave_accounting_integration"
PG_DEFAULTS = {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "odoo", "PGPASSWORD": "odoo"}


def pg_env():
    """PG* variables for createdb/dropdb/psql: the environment, else the Odoo config."""
    parser = configparser.ConfigParser()
    parser.read(CONF)
    options = parser["options"] if parser.has_section("options") else {}
    env = dict(os.environ)
    for key, var in (
        ("db_host", "PGHOST"),
        ("db_port", "PGPORT"),
        ("db_user", "PGUSER"),
        ("db_password", "PGPASSWORD"),
    ):
        value = options.get(key)
        if value and value != "False":
            env.setdefault(var, value)
        env.setdefault(var, PG_DEFAULTS[var])
    return env


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(db, template, upgrade=True):
    """A fresh copy of ``template`` named ``db``, with this checkout's addon code (-u)."""
    env = pg_env()
    subprocess.run(["dropdb", "--if-exists", db], check=True, env=env)
    subprocess.run(["createdb", "-T", template, db], check=True, env=env)
    if upgrade:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "odoo",
                "-c",
                str(CONF),
                "-d",
                db,
                "-u",
                MODULE,
                "--stop-after-init",
                "--log-level=warn",
            ],
            check=True,
            cwd=ROOT,
            env=env,
        )


def drop_database(db):
    # --force: the benchmark process may still hold connections to it.
    subprocess.run(["dropdb", "--if-exists", "--force", db], check=False, env=pg_env())
