"""Free TCP ports on the loopback interface."""

import socket
import time


def free_port():
    """A port nobody listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port, host="127.0.0.1"):
    """Whether something still accepts connections on ``port``."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def wait_port_released(port, timeout, host="127.0.0.1"):
    """True once nothing accepts connections on ``port`` (within ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while port_in_use(port, host):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
