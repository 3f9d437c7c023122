"""A real broker and real Celery worker processes for the purge tests.

Broker: Redis at ``TEST_REDIS_URL`` when that is set (CI sets it), else
kombu's filesystem transport in a temporary folder (no server). Workers are
``celery worker`` subprocesses on the test database, consuming a queue of their
own so concurrent runs never mix.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import kombu.pools
import pytest
from django.conf import settings
from django.db import connection

from maestra_mcp.celery import app
from maestra_mcp.filesystem_broker import filesystem_transport_options
from tests.support.availability import IN_CI

WORKER_SETTINGS = "tests.session_logs.worker_settings"
_worker_numbers = itertools.count(1)


def wait_for(predicate, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def closed_port_url() -> str:
    """A Redis URL nothing listens on: the broker is 'down'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=2).close()
    except OSError:
        return False
    return True


@dataclass
class Broker:
    url: str
    queue: str
    transport_options: dict
    env: dict

    @property
    def is_redis(self) -> bool:
        return self.url.startswith("redis")


def choose_broker(tmp_path: Path, queue: str) -> Broker:
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        if not _reachable(redis_url):
            message = f"Redis at TEST_REDIS_URL={redis_url} is not reachable"
            if IN_CI:
                pytest.fail(f"{message} (required under CI=true)")
            pytest.skip(f"SKIPPED LOUDLY: {message}; start Redis or unset TEST_REDIS_URL")
        return Broker(redis_url, queue, {}, {"CELERY_BROKER_URL": redis_url})
    folder = tmp_path / "broker"
    options = filesystem_transport_options(folder)
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        Path(options[key]).mkdir(parents=True, exist_ok=True)
    return Broker(
        "filesystem://",
        queue,
        options,
        {"CELERY_BROKER_URL": "filesystem://", "CELERY_FILESYSTEM_DIR": str(folder)},
    )


def point_app_at(*, url: str, queue: str, transport_options: dict) -> None:
    """Make this process's Celery app publish to ``url`` instead of running eagerly."""
    app.conf.update(
        broker_url=url,
        broker_transport_options=transport_options,
        task_always_eager=False,
        task_default_queue=queue,
    )
    _drop_connections()


def restore_app(saved: dict) -> None:
    app.conf.update(saved)
    _drop_connections()


def _drop_connections() -> None:
    # Close every pooled broker connection and forget the pools, so the next
    # publish connects to the broker now configured.
    kombu.pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def database_url_for_workers() -> str:
    """The test database's URL. The host is %-encoded: the embedded server's is the
    folder of its unix socket."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class WorkerProcess:
    """One ``celery worker`` subprocess; its output is collected for assertions."""

    broker: Broker
    extra_env: dict
    lines: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        env = {
            **os.environ,
            **self.broker.env,
            **self.extra_env,
            "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
            "DATABASE_URL": database_url_for_workers(),
            "PYTHONUNBUFFERED": "1",
            "TEST_CELERY_QUEUE": self.broker.queue,
        }
        env.pop("TEST_REDIS_URL", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "maestra_mcp",
                "worker",
                "--pool=solo",
                "-Q",
                self.broker.queue,
                "-n",
                f"{self.broker.queue}-{next(_worker_numbers)}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "info",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        self.wait_for_output("ready.", timeout=60)
        return self

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, *, timeout: float = 30) -> None:
        wait_for(
            lambda: text in self.output or self.process.poll() is not None,
            timeout=timeout,
            what=f"worker output {text!r}",
        )
        assert text in self.output, f"worker exited early:\n{self.output}"

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no chance to acknowledge or requeue anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """The test is over: SIGKILL, because a warm or cold shutdown takes ~5 s."""
        if self.process is not None and self.process.poll() is None:
            self.kill()
