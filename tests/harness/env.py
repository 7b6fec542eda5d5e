"""Where things are: the project, Odoo's configuration and entry point, PostgreSQL."""

import configparser
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = "wave_accounting_integration"
PG_DEFAULTS = {"PGHOST": "127.0.0.1", "PGPORT": "5432", "PGUSER": "odoo", "PGPASSWORD": "odoo"}
PG_OPTIONS = {
    "db_host": "PGHOST",
    "db_port": "PGPORT",
    "db_user": "PGUSER",
    "db_password": "PGPASSWORD",
}


def harness_env(name):
    """A variable ``make test`` exports; missing means pytest was started by hand."""
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the suite with `make test`.")
    return value


def odoo_conf():
    """The Odoo configuration file: the one ``make test`` wrote, else ``.cache/odoo.conf``."""
    return Path(os.environ.get("WAVE_ODOO_CONF") or ROOT / ".cache" / "odoo.conf")


def pg_env(base=None):
    """The environment with PG* for psql/createdb/dropdb and Odoo: the environment's
    own values first, then the Odoo configuration's, then the defaults."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(odoo_conf())
    options = parser["options"] if parser.has_section("options") else {}
    env = dict(os.environ if base is None else base)
    for option, var in PG_OPTIONS.items():
        value = options.get(option)
        if value and value != "False":
            env.setdefault(var, value)
        env.setdefault(var, PG_DEFAULTS[var])
    return env


def odoo_command():
    """Odoo's own entry point: the ``odoo`` console script beside the interpreter,
    else ``odoo-bin`` of the source tree, else ``odoo`` on the PATH.

    Never ``python -m odoo``: a multi-worker server starts its real-time (gevent)
    process again from ``sys.argv[0]``, which is then ``odoo/__main__.py`` and
    fails in a loop ("attempted relative import").
    """
    candidates = [Path(sys.executable).parent / "odoo"]
    try:
        import odoo  # only to find the source tree

        candidates.append(Path(odoo.__file__).resolve().parents[1] / "odoo-bin")
    except ImportError:
        pass
    on_path = shutil.which("odoo")
    if on_path:
        candidates.append(Path(on_path))
    for script in candidates:
        if script.is_file() and os.access(script, os.X_OK):
            # The same interpreter as the tests, whatever the script's shebang says.
            return [sys.executable, str(script)]
    raise RuntimeError(
        f"Neither the 'odoo' console script nor odoo-bin was found for {sys.executable}."
    )
