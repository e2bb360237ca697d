"""A ``socketserver`` server served from a thread, and stopped at once.

``serve_forever`` looks for a shutdown request only between polls of its socket (``poll_interval``,
half a second by default), so a plain ``shutdown()`` waits out the rest of a poll: up to 0.5 s for each
server a test starts, a minute or so over the suite. A connection to the server ends the poll, so
``stop_serving`` pokes the server until the loop has noticed instead of waiting for the poll to run out.
Used by the fake BookStack and the other loopback servers of the tests (reverse proxy, fake forge).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from socketserver import BaseServer


def serve_in_thread(server: BaseServer, name: str) -> threading.Thread:
    """``server.serve_forever()`` in a daemon thread (a hanging request never blocks the test's end)."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


def stop_serving(server: BaseServer, thread: threading.Thread | None, timeout: float = 5.0) -> None:
    """``server.shutdown()``, its thread joined and ``server_close()``, without waiting out a poll."""
    if thread is not None and thread.is_alive():
        # shutdown() blocks until serve_forever's loop has seen the request: ask from another thread, and
        # wake the loop with connections (handled as requests that send nothing) until it has
        stopper = threading.Thread(target=server.shutdown, name=f"{thread.name}-stop", daemon=True)
        stopper.start()
        address = server.server_address
        assert isinstance(address, tuple), "only TCP servers are served here"
        host, port = str(address[0]), int(address[1])
        deadline = time.monotonic() + timeout
        while stopper.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection((host, port), timeout=0.2).close()
            stopper.join(0.002)
        thread.join(max(0.0, deadline - time.monotonic()))
    server.server_close()
