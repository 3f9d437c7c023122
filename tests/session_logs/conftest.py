"""Fixtures for session-log tests: OAuth tokens bound to an account, log rows."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
    set_token_value,
)

from maestra_mcp.session_logs.models import McpSessionLog
from maestra_mcp.session_logs.services import session_log_record


@pytest.fixture
def claude_app(cast):
    Application = get_application_model()
    return Application.objects.create(
        name="Claude",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://claude.ai/api/mcp/auth_callback",
    )


def issue_tokens(*, account, user, application) -> dict:
    """An access token, its refresh token and a pending grant, all bound to ``account``.

    Returns the raw token strings too, so tests can prove they are stored nowhere.
    """
    raw_access, raw_refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    resource = [account.mcp_url]
    expires = timezone.now() + timedelta(hours=1)
    access = get_access_token_model()(
        user=user,
        application=application,
        expires=expires,
        scope="reports:read",
        resource=resource,
    )
    set_token_value(access, raw_access)
    access.save()
    refresh = get_refresh_token_model()(
        user=user, application=application, access_token=access, resource=resource
    )
    set_token_value(refresh, raw_refresh)
    refresh.save()
    grant = get_grant_model().objects.create(
        user=user,
        application=application,
        code=secrets.token_urlsafe(16),
        expires=expires,
        redirect_uri="https://claude.ai/api/mcp/auth_callback",
        scope="reports:read",
        resource=resource,
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )
    return {
        "access": access,
        "refresh": refresh,
        "grant": grant,
        "raw_access": raw_access,
        "raw_refresh": raw_refresh,
    }


def make_logs(account, n: int, *, created_at=None) -> None:
    """``n`` plain tools/call rows for ``account`` (bulk, bypassing the service)."""
    McpSessionLog.objects.unscoped().bulk_create(
        McpSessionLog(
            account=account,
            method="tools/call",
            tool_name="campaign_report",
            params={"i": i},
            status=McpSessionLog.Status.SUCCESS,
            created_at=created_at or timezone.now(),
        )
        for i in range(n)
    )


def record(account, **kwargs):
    kwargs.setdefault("status", McpSessionLog.Status.SUCCESS)
    return session_log_record(account=account, **kwargs)


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

    Requesting this fixture also switches SQLite to a file test database
    (see tests/conftest.py).
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
