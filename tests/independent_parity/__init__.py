"""Independent parity check: Wave (plain GraphQL) against Odoo (SQL), by natural keys.

See README.md. Nothing here imports the addon.
"""

from .check import check_parity
from .estimates import check_estimate_parity
from .odoo_reader import OdooReader
from .report import Difference, ParityReport, assert_parity
from .wave_reader import WaveReader, WaveReadError

__all__ = [
    "Difference",
    "OdooReader",
    "ParityReport",
    "WaveReadError",
    "WaveReader",
    "assert_parity",
    "check_estimate_parity",
    "check_parity",
]
