"""The demo's front door: what nginx does in production (docker/nginx-scale.conf).

A multi-worker Odoo answers the web client's real-time websocket (``/websocket``)
only on its gevent port; its HTTP workers refuse it ("Couldn't bind the
websocket", a traceback, and "Real-time connection lost" in the browser). So
``make demo`` serves the browser from this proxy: a connection whose first request
is a websocket upgrade of ``/websocket`` goes to the gevent port, every other one to
Odoo's HTTP port. Bytes are copied unchanged both ways (the Host header too, so Odoo
sees the address the user typed).

    python3 scripts/demo_proxy.py LISTEN_PORT HTTP_PORT GEVENT_PORT
"""

import asyncio
import sys

HEADERS_END = b"\r\n\r\n"
MAX_HEADERS = 64 * 1024


def _is_websocket(head):
    """Whether the request ``head`` (request line and headers) opens the bus websocket."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    path = parts[1] if len(parts) > 1 else ""
    upgrade = any(
        line.lower().startswith("upgrade:") and "websocket" in line.lower() for line in lines[1:]
    )
    return upgrade and (path == "/websocket" or path.startswith(("/websocket?", "/websocket/")))


async def _pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        if not writer.is_closing():
            writer.close()


async def _serve(client_reader, client_writer, http_port, gevent_port):
    head = b""
    try:
        while HEADERS_END not in head and len(head) < MAX_HEADERS:
            chunk = await client_reader.read(65536)
            if not chunk:
                break
            head += chunk
        if not head:
            client_writer.close()
            return
        port = gevent_port if _is_websocket(head) else http_port
        odoo_reader, odoo_writer = await asyncio.open_connection("127.0.0.1", port)
    except (ConnectionError, OSError):
        # Odoo not listening yet (starting) or the browser gone: the browser retries
        client_writer.close()
        return
    odoo_writer.write(head)
    await asyncio.gather(_pipe(client_reader, odoo_writer), _pipe(odoo_reader, client_writer))


async def main(listen_port, http_port, gevent_port):
    server = await asyncio.start_server(
        lambda reader, writer: _serve(reader, writer, http_port, gevent_port),
        host=None,  # every interface, as Odoo itself listens
        port=listen_port,
        reuse_address=True,
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    listen, http, gevent = (int(arg) for arg in sys.argv[1:4])
    asyncio.run(main(listen, http, gevent))
