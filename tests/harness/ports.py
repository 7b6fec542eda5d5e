"""Free TCP ports on the loopback interface."""

import socket


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
