"""Fixtures for session-log tests: an OAuth application, a broker, worker processes
(helpers: tests/support/session_logs.py)."""

from __future__ import annotations

import secrets

import pytest
from oauth2_provider.models import get_application_model


@pytest.fixture
def claude_app(cast):
    Application = get_application_model()
    return Application.objects.create(
        name="Claude",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://claude.ai/api/mcp/auth_callback",
    )


@pytest.fixture
def broker(tmp_path):
    """A real broker this process publishes to (Redis or kombu's filesystem transport)."""
    from maestra_mcp.celery import app
    from tests.session_logs import workers

    chosen = workers.choose_broker(tmp_path, f"sessionlog-test-{secrets.token_hex(4)}")
    saved = {
        key: app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_always_eager")
    }
    saved["task_default_queue"] = app.conf.task_default_queue
    workers.point_app_at(
        url=chosen.url, queue=chosen.queue, transport_options=chosen.transport_options
    )
    yield chosen
    workers.restore_app(saved)
    if chosen.is_redis:
        import redis

        # The queue and kombu's bookkeeping of it, so repeated runs leave nothing behind.
        client = redis.Redis.from_url(chosen.url)
        client.delete(chosen.queue, *client.keys(f"_kombu.*{chosen.queue}"))


@pytest.fixture
def celery_worker_process(broker):
    """Start ``celery worker`` subprocesses on the test database: ``start(**env)``.

    Requesting this fixture puts the test in the slow tier (see tests/conftest.py).
    """
    from tests.session_logs.workers import WorkerProcess

    started: list[WorkerProcess] = []

    def start(**env) -> WorkerProcess:
        worker = WorkerProcess(broker, {key: str(value) for key, value in env.items()})
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
