from . import controllers
from . import models
from . import services
from . import wizards


def post_init_hook(env):
    """Odoo keeps Wave's decimals: raise the precisions Wave's invoice lines need."""
    env["wave.books.setup"]._ensure_precisions()
