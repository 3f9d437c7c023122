"""One uvicorn instance serving the project on an inherited listening TCP socket.

    python benchmarks/_uvicorn_instance.py FD

Used by ``mcp_load.py`` instead of ``uvicorn --fd``: uvicorn wraps an ``--fd``
socket as a Unix socket, so its connections keep Nagle's algorithm on and a
response written in two parts (headers, then a body) stalls ~40 ms on the
peer's delayed ACK. Wrapped here with its real family (TCP), each connection
gets ``TCP_NODELAY`` as with ``uvicorn --host/--port``.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from _setup import ROOT

if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))  # where uvicorn imports the application from
    listening = socket.socket(fileno=int(sys.argv[1]))  # the family is read from the socket
    config = uvicorn.Config(
        "maestra_mcp.asgi:application", log_level="warning", access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run(sockets=[listening])
