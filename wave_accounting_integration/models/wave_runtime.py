# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""How the sync may use transactions in the current process."""

import threading

from odoo import modules
from odoo.tools import config


def in_test_mode(env):
    """True while tests run: no second cursor and no commit (the test cursor sees all).

    Odoo's own runner marks the thread (``testing``) or the registry; pytest-odoo
    may only set ``test_enable``, so each signal counts.
    """
    return bool(
        env.registry.in_test_mode()
        or getattr(threading.current_thread(), "testing", False)
        or modules.module.current_test
        or config["test_enable"]
    )


def can_commit(env):
    """Progress and ledgers are committed as they go, except in tests."""
    return not in_test_mode(env)
