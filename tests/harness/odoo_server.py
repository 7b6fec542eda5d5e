"""Odoo as a separate process, always through its own entry point (:func:`.env.odoo_command`)."""

import time

import requests

from .env import ROOT, odoo_command, odoo_conf, pg_env
from .ports import free_port
from .processes import ProcessGroup, run_checked


def run_odoo(*args, input_text=None, timeout=900):
    """A one-shot Odoo command (``--stop-after-init``, ``shell``), checked."""
    return run_checked(
        [*odoo_command(), *args], input_text=input_text, timeout=timeout, env=pg_env(), cwd=ROOT
    )


class OdooServer:
    """``odoo --workers=N`` on ``db``, in its own process group, stopped on exit.

    ``job_runner``: queue_job's runner on (the channels of the configuration, or
    ``channels`` when given, e.g. ``"root:3,root.wave.import:2"``) or off (``root:0``:
    queued jobs stay pending). ``extra_args`` are added to the
    command line (e.g. time limits). :meth:`kill9` and :meth:`start` again
    restart it on the same database and ports.
    """

    def __init__(
        self,
        db,
        conf=None,
        *,
        log_dir=None,
        workers=2,
        http_port=None,
        job_runner=True,
        channels=None,
        extra_args=(),
        start_timeout=180,
    ):
        self.db, self.conf, self.workers = db, str(conf or odoo_conf()), workers
        self.port = http_port or free_port()
        self.gevent_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.job_runner, self.extra_args = job_runner, list(extra_args)
        self.channels = channels
        self.start_timeout = start_timeout
        self.log_dir = log_dir
        self.group = None
        self.starts = 0

    @property
    def proc(self):
        return self.group.proc if self.group else None

    @property
    def log_path(self):
        return self.group.log_path if self.group else None

    def command(self):
        return [
            *odoo_command(),
            "-c", self.conf,
            "-d", self.db,
            f"--db-filter=^{self.db}$",
            f"--http-port={self.port}",
            f"--gevent-port={self.gevent_port}",
            "--http-interface=127.0.0.1",
            f"--workers={self.workers}",
            "--max-cron-threads=0",
            *self.extra_args,
        ]  # fmt: skip

    def start(self):
        self.starts += 1
        env = pg_env()
        env.pop("ODOO_QUEUE_JOB_CHANNELS", None)
        if self.channels:
            env["ODOO_QUEUE_JOB_CHANNELS"] = self.channels
        if not self.job_runner:
            env["ODOO_QUEUE_JOB_CHANNELS"] = "root:0"
        if self.group is None:
            self.group = ProcessGroup(
                self.command(), name="wave_odoo", env=env, log_dir=self.log_dir
            )
        else:  # a restart: same command, same log
            self.group.env = env
        self.group.start_and_wait(self._wait_ready)
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.group.running():
                raise RuntimeError(f"Odoo exited early:\n{self.group.log_tail()}")
            try:
                if requests.get(self.base + "/web/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"Odoo did not answer on port {self.port}:\n{self.group.log_tail()}")

    def kill9(self):
        """``kill -9`` of every Odoo process (HTTP workers, job runner, gevent)."""
        self.group.kill9()

    def stop(self):
        if self.group is not None:
            self.group.stop()

    def log_text(self):
        return self.group.log_text() if self.group else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.group is not None:
            self.group.__exit__(*exc)
