"""A PostgreSQL streaming replica of the test server, for the scale-out tests.

``pg_basebackup -R`` copies the server the tests run on into a temporary folder
and the same server binaries start it on a free port as a hot standby: a real
replica, read-only, replaying the primary's WAL. It needs a ``replication`` line
in the primary's pg_hba.conf (``.ci/run`` adds it; README "Scaling out") and a
role with the REPLICATION attribute. PostgreSQL refuses to run as root, so as
root every server command runs as the ``postgres`` OS user.

Where something is missing the tests skip loudly; under ``CI=true`` they fail.
The base backup copies the whole server (every database on it), so on a server
holding large databases it takes a while.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.availability import unavailable
from tests.support.processes import free_port

WHAT = "Read-replica test"
HBA_HINT = (
    "the primary's pg_hba.conf needs a replication line, e.g. "
    "`host replication all 127.0.0.1/32 trust` (then SELECT pg_reload_conf())"
)
# A hot standby refuses to start when any of these is lower than on its primary.
MATCH_PRIMARY = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


@dataclass
class Replica:
    port: int
    folder: Path


def _bindir(version_num: int) -> Path | None:
    """The server binaries of the primary's major version (the replica must match)."""
    major = version_num // 10000
    candidates = [os.environ.get("PG_BINDIR", ""), f"/usr/lib/postgresql/{major}/bin"]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.append(str(Path(pg_ctl).parent))
    for candidate in filter(None, candidates):
        folder = Path(candidate)
        if not (folder / "pg_ctl").is_file() or not (folder / "pg_basebackup").is_file():
            continue
        version = subprocess.run(
            [folder / "postgres", "--version"], capture_output=True, text=True, check=False
        ).stdout  # "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
        if version.split()[2:3] and version.split()[2].split(".")[0] == str(major):
            return folder
    return None


def _server_user() -> list[str]:
    """The prefix that runs a server command as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        unavailable(WHAT, "running as root and there is no `postgres` OS user to run a server")
    return ["runuser", "-u", "postgres", "--"]


def _run(
    command: list, *, timeout: int, password: str | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "LC_ALL": "C"}
    if password:
        env["PGPASSWORD"] = password  # runuser keeps the environment
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


@contextmanager
def streaming_replica(primary: dict) -> Iterator[Replica]:
    """A hot standby of the server ``primary`` (a Django settings dict) points at.

    Stopped (immediately) and deleted on exit, whatever happened.
    """
    conninfo = {
        "host": primary["HOST"] or "127.0.0.1",
        "port": primary["PORT"] or 5432,
        "user": primary["USER"],
        "password": primary["PASSWORD"] or None,
        "dbname": primary["NAME"],
    }
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        replication = conn.execute(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        version_num = int(conn.execute("SHOW server_version_num").fetchone()[0])
        matched = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in MATCH_PRIMARY}
    if not replication:
        unavailable(WHAT, f"the role {conninfo['user']!r} lacks the REPLICATION attribute")
    bindir = _bindir(version_num)
    if bindir is None:
        unavailable(WHAT, f"no pg_ctl/pg_basebackup of PostgreSQL {version_num // 10000} found")
    as_server = _server_user()

    folder = Path(tempfile.mkdtemp(prefix="maestra-replica-"))
    data = folder / "data"
    started = False
    try:
        if as_server:
            account = pwd.getpwnam("postgres")
            os.chown(folder, account.pw_uid, account.pw_gid)
        # --checkpoint=fast: do not wait for the next spread checkpoint. No slot
        # is created (-X stream uses a temporary one), so nothing stays behind on
        # the primary holding WAL once the replica is gone.
        backup = _run(
            [
                *as_server,
                bindir / "pg_basebackup",
                "-h",
                conninfo["host"],
                "-p",
                conninfo["port"],
                "-U",
                conninfo["user"],
                "-D",
                data,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
                "--no-manifest",
            ],
            timeout=900,
            password=conninfo["password"],
        )
        if backup.returncode != 0:
            hint = f"; {HBA_HINT}" if "pg_hba.conf" in backup.stderr else ""
            unavailable(WHAT, f"pg_basebackup failed: {backup.stderr.strip()}{hint}")

        # The primary's own configuration may not be in its data folder (Debian
        # keeps it in /etc/postgresql) or may name its paths: the replica gets
        # its own, and its settings on the command line (they win over the
        # postgresql.auto.conf that -R wrote primary_conninfo into).
        (data / "postgresql.conf").write_text("# settings: pg_ctl -o (tests/support/replica.py)\n")
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        if as_server:
            for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
                os.chown(data / name, account.pw_uid, account.pw_gid)
        port = free_port()
        options = {
            "port": port,
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": folder,
            "hot_standby": "on",
            # The primary keeps rows a replica query still reads, so replay
            # never cancels a running report (README "Scaling out").
            "hot_standby_feedback": "on",
            "fsync": "off",
            "shared_buffers": "32MB",
            **matched,
        }
        start = _run(
            [
                *as_server,
                bindir / "pg_ctl",
                "-D",
                data,
                "-l",
                folder / "server.log",
                "-w",
                "-t",
                "120",
                "-o",
                " ".join(f"-c {name}={value}" for name, value in options.items()),
                "start",
            ],
            timeout=180,
        )
        started = True
        if start.returncode != 0:
            log = (folder / "server.log").read_text(errors="replace")[-2000:]
            unavailable(WHAT, f"the replica did not start: {start.stdout}{start.stderr}\n{log}")
        replica = Replica(port=port, folder=folder)
        _wait_streaming(replica, conninfo)
        yield replica
    finally:
        if started:
            _run([*as_server, bindir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_streaming(replica: Replica, conninfo: dict, timeout: float = 60) -> None:
    """Until the replica is in recovery and its WAL receiver streams from the primary."""
    deadline = time.monotonic() + timeout
    status = "no connection yet"
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(
                **{**conninfo, "host": "127.0.0.1", "port": replica.port}, autocommit=True
            ) as conn:
                row = conn.execute(
                    "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)"
                ).fetchone()
                if row == (True, "streaming"):
                    return
                status = f"in recovery: {row[0]}, WAL receiver: {row[1]}"
        except psycopg.OperationalError as error:
            status = str(error).strip()
        time.sleep(0.2)
    log = (replica.folder / "server.log").read_text(errors="replace")[-2000:]
    raise AssertionError(f"the replica is not streaming after {timeout} s ({status}):\n{log}")


def wait_replayed(replica_cursor, primary_cursor, timeout: float = 60) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    primary_cursor.execute("SELECT pg_current_wal_lsn()")
    target = primary_cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replica_cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
        if replica_cursor.fetchone()[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the replica has not replayed up to {target} within {timeout} s")
