"""Wave ``DateTime`` values (``2026-01-31T12:00:00.000Z``, always UTC) and Python datetimes.

The one place where Wave's date-time strings are read and written.
"""

from datetime import datetime

WAVE_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def parse_wave_datetime(value):
    """Wave ``DateTime`` → naive UTC :class:`datetime` (Odoo's convention), or False."""
    if not value:
        return False
    return datetime.strptime(value[:19], WAVE_DATETIME_FORMAT)


def format_wave_datetime(value):
    """Naive UTC :class:`datetime` → Wave ``DateTime`` string."""
    return value.strftime(WAVE_DATETIME_FORMAT) + ".000Z"
