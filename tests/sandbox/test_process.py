"""``python -m wave_sandbox`` as a process: SIGTERM and SIGINT stop it cleanly within 2 s.

Cleanly: while a webhook delivery waits for an answer, a client keeps an idle
keep-alive connection and another waits in a ``hang`` fault; the process exits 0,
both clients see their connection end, the port is free and no process is left.
"""

import http.client
import json
import signal
import socket
import threading
import time

import pytest
from harness import SandboxProcess, port_in_use

STOP_WITHIN = 2.0


def _ignore_sigint():
    # What a shell does to a background job: the sandbox inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture
def silent_receiver():
    """A webhook receiver that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(10)
        yield server


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_sandbox_within_two_seconds(signum, silent_receiver, tmp_path):
    state_file = tmp_path / "state.json"
    sandbox = SandboxProcess(
        demo=True,
        invoices=5,
        extra_args=["--state-file", state_file],
        log_dir=tmp_path,
        preexec_fn=_ignore_sigint,
    )
    with sandbox:
        # A webhook delivery in flight, waiting for an answer that never comes.
        receiver_port = silent_receiver.getsockname()[1]
        sandbox.admin(
            "POST",
            "/sandbox/webhooks/subscriptions",
            {"url": f"http://127.0.0.1:{receiver_port}/hook", "secret": "s"},
        )
        sandbox.admin("POST", "/sandbox/webhooks/test", {})
        # An idle keep-alive connection (one answered request, then nothing).
        idle = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
        idle.request("GET", "/")
        assert idle.getresponse().read()
        # A GraphQL call stalled by a 30 s hang fault.
        sandbox.admin("POST", "/sandbox/faults", {"kind": "hang", "delay": 30, "count": 1})
        stalled = {}

        def call():
            conn = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=10)
            conn.request(
                "POST",
                "/graphql/public",
                json.dumps({"query": "{ user { id } }"}),
                {"Authorization": f"Bearer {sandbox.token}", "Content-Type": "application/json"},
            )
            try:
                stalled["answer"] = conn.getresponse().status
            except (http.client.HTTPException, OSError) as exc:
                stalled["error"] = exc
            stalled["at"] = time.monotonic()

        caller = threading.Thread(target=call)
        caller.start()
        while not sandbox.admin("GET", "/sandbox/faults")["faults"][0]["fired"]:
            time.sleep(0.05)
        connection, _ = silent_receiver.accept()
        with connection:
            assert not state_file.exists()
            started = time.monotonic()
            sandbox.proc.send_signal(signum)  # the sandbox's own PID, not its group
            returncode = sandbox.proc.wait(timeout=10)
            elapsed = time.monotonic() - started
        assert elapsed <= STOP_WITHIN, f"stopped after {elapsed:.1f} s"
        assert returncode == 0, sandbox.group.log_tail()  # a clean stop, not a kill
        assert not port_in_use(sandbox.port)
        assert state_file.exists()  # the state was saved on the way out
        assert sandbox.group.members() == []
        caller.join(5)
        assert "answer" not in stalled and stalled["at"] - started <= STOP_WITHIN, stalled
        assert idle.sock.recv(1) == b""  # the idle connection was closed, not left hanging
        idle.close()
