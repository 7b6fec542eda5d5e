"""Commands run by the harness: one-shot (checked) or long-running in a process group.

A long-running command is started in its own session, so that it and every process
it starts (Odoo's workers and its gevent process, a shell script's children) form
one process group. Stopping the group reaches all of them; the harness stops every
group it started: on leaving its ``with`` block, when starting fails, and at the
latest when the interpreter exits (a finaliser), whatever happened in between.
"""

import atexit
import os
import signal
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from .env import ROOT

_LIVE = weakref.WeakSet()


class CommandFailed(AssertionError):
    """A command exited with an error; the message holds the end of its output."""


def run_checked(cmd, *, input_text=None, timeout=600, env=None, cwd=ROOT):
    """Run ``cmd`` to its end; raise :class:`CommandFailed` with its output if it fails."""
    try:
        completed = subprocess.run(
            [str(part) for part in cmd],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
            env=env,
        )
    except subprocess.TimeoutExpired as error:
        raise CommandFailed(f"{' '.join(map(str, cmd))} still running after {timeout} s") from error
    if completed.returncode:
        raise CommandFailed(
            f"{' '.join(map(str, cmd))} exited {completed.returncode}\n"
            f"--- stdout ---\n{completed.stdout[-4000:]}\n"
            f"--- stderr ---\n{completed.stderr[-4000:]}"
        )
    return completed


def group_members(pgid):
    """PIDs of the live (not zombie) processes whose process group is ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def command_line(pid):
    """The command line of ``pid`` (empty once it is gone), for messages."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


class ProcessGroup:
    """``cmd`` in its own process group, its output in a log file.

    ``log_dir``: where the log is kept; without it the log is a temporary file,
    removed when the process stopped without an error in the ``with`` block.
    ``preexec_fn``: run in the child before the command (e.g. signal dispositions).
    """

    def __init__(self, cmd, *, name, cwd=ROOT, env=None, log_dir=None, preexec_fn=None):
        self.cmd, self.name, self.cwd, self.env = [str(c) for c in cmd], name, cwd, env
        self.preexec_fn = preexec_fn
        self.keep_log = log_dir is not None
        handle, path = tempfile.mkstemp(prefix=f"{name}_", suffix=".log", dir=log_dir)
        os.close(handle)
        self.log_path = Path(path)
        self.proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it reaches all
                preexec_fn=self.preexec_fn,
            )
        _LIVE.add(self)
        return self

    def start_and_wait(self, wait_ready):
        """Start, then ``wait_ready()``; a group that never gets ready is stopped."""
        self.start()
        try:
            wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def members(self):
        """Every live process of the group (the leader and what it started)."""
        return group_members(self.proc.pid) if self.proc else []

    def describe_members(self):
        """``pid: command line`` of every live process of the group, one a line."""
        return "\n".join(f"{pid}: {command_line(pid)[:300]}" for pid in self.members())

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars=4000):
        return self.log_text()[-chars:]

    def signal_group(self, signum):
        try:
            os.killpg(self.proc.pid, signum)
        except ProcessLookupError:
            pass

    def kill9(self):
        """``kill -9`` of every process of the group."""
        self.signal_group(signal.SIGKILL)
        self.proc.wait(30)
        self._wait_group_gone(10)

    def stop(self, timeout=30):
        """SIGTERM to the group, SIGKILL for what is left after ``timeout`` seconds."""
        if self.proc is None:
            return
        if self.proc.poll() is None or self.members():
            self.signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.proc.wait(10)
            if not self._wait_group_gone(timeout):
                self.signal_group(signal.SIGKILL)
                self._wait_group_gone(10)
        _LIVE.discard(self)

    def _wait_group_gone(self, timeout):
        deadline = time.monotonic() + timeout
        while self.members():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        self.stop()
        if exc_type is None and not self.keep_log:
            self.log_path.unlink(missing_ok=True)


@atexit.register
def _stop_leftovers():
    """The finaliser: no process the harness started outlives the interpreter."""
    for group in list(_LIVE):
        if group.proc is not None:
            group.signal_group(signal.SIGKILL)
