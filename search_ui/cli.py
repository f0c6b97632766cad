"""``kholuu serve``: the web interface under uvicorn.

``serve`` is also what ``kholuu demo`` calls once the demo data is built.
"""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from kholuu.errors import KholuuError
from kholuu.settings import Settings


class ServeError(KholuuError):
    """The web server cannot start (port taken, bad host)."""


def _check_bind(host: str, port: int) -> None:
    """Fail early, in one line, when the address cannot be used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ServeError(f"{host}: unknown host name") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"{host}:{port}: port already in use (try --port)") from None
            raise ServeError(f"{host}:{port}: cannot listen ({exc.strerror})") from None


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve the web interface until interrupted; prints the URL first."""
    import uvicorn

    from search_ui.app import create_app

    host = host or settings.host
    port = port or settings.port
    _check_bind(host, port)
    settings.ensure_dirs()
    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print(f"kholuu: trang tra cứu tại http://{shown}:{port}/  (Ctrl+C để dừng)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False, server_header=False)


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        serve(settings, getattr(args, "host", None), getattr(args, "port", None))
    except KeyboardInterrupt:
        sys.stderr.write("kholuu: stopped\n")
    return 0
