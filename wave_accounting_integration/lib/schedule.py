# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""When each company's hourly poll starts: spread over part of the hour.

Twenty companies polled by one cron must not all call Wave in the same minute:
each Wave token has its own budget, but the job node, PostgreSQL and Wave see
every poll at once. Connection ``n`` of ``N`` starts ``n * spread / N`` seconds
after the cron ran.
"""

#: System parameter: seconds over which the hourly polls are spread.
POLL_SPREAD_PARAM = "wave_accounting_integration.poll_spread_seconds"
#: Half an hour by default: every poll starts well before the next cron run.
DEFAULT_POLL_SPREAD = 1800
#: The polls of one cron run never spread into the next one (hourly cron).
MAX_POLL_SPREAD = 3300


def poll_spread(raw):
    """The spread in seconds from the parameter's text (default when unset or wrong)."""
    try:
        value = int(float(raw)) if raw not in (None, False, "") else DEFAULT_POLL_SPREAD
    except (TypeError, ValueError):
        value = DEFAULT_POLL_SPREAD
    return min(max(value, 0), MAX_POLL_SPREAD)


def poll_offsets(count, raw_spread=None):
    """Seconds after the cron at which each of ``count`` connections starts its poll."""
    spread = poll_spread(raw_spread)
    if count <= 0:
        return []
    step = spread / count
    return [round(index * step, 3) for index in range(count)]
