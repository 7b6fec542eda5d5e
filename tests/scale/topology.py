"""The production shape on one machine (issue 21): HTTP nodes without a job runner,
one job node with queue_job's runner, one database, one filestore.

The processes come from the shared harness (:class:`harness.OdooServer`); this
module only says what each role runs with:

* an HTTP node loads ``base,web`` server-wide and not ``queue_job``, so queue_job's
  runner is not even imported (queue_job's documented way: the runner starts only
  where ``queue_job`` is a server-wide module); ``ODOO_QUEUE_JOB_CHANNELS=root:0``
  (the harness's ``job_runner=False``) would also keep it off;
* the job node loads ``base,web,queue_job``: the runner dispatches the jobs to the
  node's own HTTP workers, with the channels of the job role's configuration.

The sandbox of these tests has its rate limit ON, and a request journal
(``GET /sandbox/journal``) read by :func:`window_peak` and :func:`grants`.
"""

import configparser
from bisect import bisect_left, bisect_right
from pathlib import Path

import harness
from harness import ROOT, SandboxProcess
from reliability.e2e import ADMIN_TOKEN, Rpc, Sandbox

HTTP_LOAD = "base,web"
JOB_LOAD = "base,web,queue_job"
#: The job role's configuration for production (docker compose's scale profile).
JOB_CONF = ROOT / "docker" / "odoo-jobs.conf"
WEB_CONF = ROOT / "docker" / "odoo-web.conf"


def read_conf(path):
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    parser.read(path)
    return parser


#: The job role's channels: the tests run with production's (docker/odoo-jobs.conf).
JOB_CHANNELS = read_conf(JOB_CONF)["queue_job"]["channels"]
RUNNER_LOGGER = "odoo.addons.queue_job.jobrunner.runner"
NODE_ARGS = [
    "--limit-time-real=3600",  # historical import chunks may run for minutes
    "--limit-time-cpu=3600",
    "--log-level=warn",
    # queue_job's runner says when it is ready and each job it hands to Odoo.
    f"--log-handler={RUNNER_LOGGER}:INFO",
]


def role_conf(base_conf, path, channels=JOB_CHANNELS):
    """The test configuration with the job role's channels (a copy at ``path``)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(base_conf)
    if not parser.has_section("queue_job"):
        parser.add_section("queue_job")
    parser["queue_job"]["channels"] = channels
    with open(path, "w") as handle:
        parser.write(handle)
    return Path(path)


def http_node(db, conf, log_dir, workers=1):
    """An HTTP node: Odoo's workers, no queue_job runner, no cron."""
    return harness.OdooServer(
        db,
        conf,
        log_dir=log_dir,
        workers=workers,
        job_runner=False,
        extra_args=[f"--load={HTTP_LOAD}", *NODE_ARGS],
    )


def job_node(db, conf, log_dir, workers=2):
    """The job node: queue_job's runner (one per database) and the workers it feeds."""
    return harness.OdooServer(
        db,
        conf,
        log_dir=log_dir,
        workers=workers,
        job_runner=True,
        extra_args=[f"--load={JOB_LOAD}", *NODE_ARGS],
    )


def runner_activity(server):
    """What queue_job's runner wrote in the node's log: ready for a database, and how
    many jobs it handed to Odoo (the runner's own words, logged at INFO)."""
    text = server.log_text()
    return {
        "ready": "queue job runner ready for db" in text,
        "jobs_dispatched": text.count("asking Odoo to run job"),
    }


class LimitedSandbox(Sandbox):
    """The sandbox with its per-token rate limit ON (``limit`` per ``window`` s):
    a 429 in the journal is a request Odoo sent over Wave's limit."""

    def __init__(self, *, limit, window, seed=42, log_dir=None, token_ttl=7200):
        SandboxProcess.__init__(
            self,
            seed=seed,
            admin_token=ADMIN_TOKEN,
            rate_limit=limit,
            log_dir=log_dir,
            extra_args=["--rate-window", window, "--access-token-ttl", token_ttl],
        )

    def journal(self, since=0.0):
        return self.admin("GET", f"/sandbox/journal?since={since}")["entries"]


def window_peak(times, window):
    """The most requests at ``times`` (seconds) within any ``window`` seconds."""
    times = sorted(times)
    peak = 0
    for index, start in enumerate(times):
        peak = max(peak, bisect_right(times, start + window - 1e-9) - index)
    return peak


def budget_bound(capacity, period, window):
    """The most requests a token bucket of ``capacity`` per ``period`` lets through in
    ``window`` seconds: the full bucket, then the refill (``capacity / period`` a second)."""
    return capacity + window * capacity / period


def starts_within(times, window):
    """The most of ``times`` within any ``window`` seconds (how bunched the starts are)."""
    return window_peak(times, window)


def first_after(times, moment):
    """The first of the sorted ``times`` at or after ``moment`` (None if none)."""
    index = bisect_left(times, moment)
    return times[index] if index < len(times) else None


class NodeRpc(Rpc):
    """An administrator's JSON-RPC session; a method returning None is fine (Odoo then
    leaves ``result`` out of the answer)."""

    def _call(self, path, params, timeout=600):
        return self._post(path, params, timeout).get("result")
