"""A reverse proxy in front of a BookStack, as nginx stands in front of many: ``proxy_pass`` to the server
with nginx's defaults.

The tests reach BookStack through it, at an address that is not BookStack's ``APP_URL``: a pipeline talks
to an internal address while readers use the public one. nginx's default ``proxy_redirect`` rewrites a
``Location`` header that starts with the upstream's address to the proxy's own address, so the redirect
of ``/link/<id>`` (``{APP_URL}/books/…`` or ``{APP_URL}/login``) then names the address the tool uses, not
``APP_URL``. Bodies pass unchanged: the URLs BookStack writes into its JSON keep ``APP_URL``.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.fake_bookstack.serving import serve_in_thread, stop_serving

# Not forwarded (RFC 9110 §7.6.1), as a proxy does; the proxy sets its own length and connection.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: ReverseProxy) -> None:
        super().__init__((proxy.host, 0), _Handler)
        self.proxy = proxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def _forward(self) -> None:
        self.server.proxy.forward(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _forward

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the upstream keeps the request log."""


class ReverseProxy:
    """Forwards every request to ``upstream`` (``http://host:port``); a ``Location`` starting with
    ``redirects_from`` (the upstream's address as BookStack writes it: its ``APP_URL``) is rewritten to
    start with the proxy's own address, as nginx's ``proxy_redirect default`` does."""

    def __init__(self, upstream: str, redirects_from: str, *, host: str = "127.0.0.1") -> None:
        self.upstream = urlsplit(upstream)
        self.redirects_from = redirects_from.rstrip("/")
        self.host = host
        self.url = ""
        self.rewritten = 0  # Location headers rewritten so far
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        self._server = _Server(self)
        self.url = f"http://{self.host}:{self._server.server_address[1]}"
        self._thread = serve_in_thread(self._server, "reverse-proxy")
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            stop_serving(self._server, self._thread)
            self._server = None
        self._thread = None

    def __enter__(self) -> ReverseProxy:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def forward(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
        headers["Host"] = self.upstream.netloc  # nginx's default: proxy_set_header Host $proxy_host
        upstream = http.client.HTTPConnection(self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=120)
        try:
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            reply = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}]
            status = response.status
        except OSError:
            reply, data, status = [("Content-Type", "text/html")], b"<h1>502 Bad Gateway</h1>", 502
        finally:
            upstream.close()
        try:
            handler.send_response(status)
            for name, value in reply:
                handler.send_header(name, self._location(value) if name.lower() == "location" else value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _location(self, value: str) -> str:
        if value == self.redirects_from or value.startswith(self.redirects_from + "/"):
            self.rewritten += 1
            return self.url + value[len(self.redirects_from) :]
        return value
