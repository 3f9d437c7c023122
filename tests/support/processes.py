"""Servers in processes of their own: a free loopback port, and the project's server
started as a subprocess with its own environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_process(
    module: str, environment: Mapping[str, str | None], *arguments: str
) -> Iterator[str]:
    """``python -m module --port <free port> *arguments`` (a server: uvicorn, or
    ``maestra_mcp.serve``) in a process of its own with the project's settings and
    ``environment`` on top of this one's (None: unset); yields its origin once it
    accepts connections."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEBUG": "true",
        "MAESTRA_PUBLIC_URL": origin,
        "DJANGO_SETTINGS_MODULE": "maestra_mcp.settings",
        **environment,
    }
    env = {name: value for name, value in env.items() if value is not None}
    command = [sys.executable, "-m", module, "--port", str(port), *arguments]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{module} did not start") from None
                time.sleep(0.1)
        yield origin
    finally:
        server.terminate()
        server.wait(timeout=10)
