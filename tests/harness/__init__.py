"""The one test harness: everything a test or a benchmark needs to drive real processes.

Used by the foundation tests (``tests/foundation``), the end-to-end reliability
tests (``tests/reliability``) and the benchmarks (``tests/bench``):

* :mod:`.env`: the project folder, the Odoo configuration file, the PostgreSQL
  variables, Odoo's own entry point and the variables ``make test`` exports;
* :mod:`.ports`: free TCP ports, and whether one is still in use;
* :mod:`.processes`: a command in its own process group, always stopped with
  every process it started (context manager, and a finaliser at interpreter exit);
* :mod:`.databases`: ``psql``, copies of a template database, dropped afterwards;
* :mod:`.sandbox_process`: ``python -m wave_sandbox`` as a separate process;
* :mod:`.odoo_server`: a multi-worker Odoo server, and one-shot Odoo commands.
"""

from .databases import ScratchDatabase, copy_database, drop_database, prepare_database, psql
from .env import MODULE, ROOT, odoo_command, odoo_conf, pg_env, harness_env
from .odoo_server import OdooServer, run_odoo
from .ports import free_port, port_in_use
from .processes import CommandFailed, ProcessGroup, run_checked
from .sandbox_process import SandboxProcess

__all__ = [
    "MODULE",
    "ROOT",
    "CommandFailed",
    "OdooServer",
    "ProcessGroup",
    "SandboxProcess",
    "ScratchDatabase",
    "copy_database",
    "drop_database",
    "free_port",
    "harness_env",
    "odoo_command",
    "odoo_conf",
    "pg_env",
    "port_in_use",
    "prepare_database",
    "psql",
    "run_checked",
    "run_odoo",
]
