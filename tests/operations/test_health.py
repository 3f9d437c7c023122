"""``/healthz`` and ``/readyz``: what they check, and that they answer before the page stack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from tests.support.availability import unavailable

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_answers_without_the_database(client):
    # No database access is allowed in this test: any query would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_ready_with_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok"},
    }


@pytest.mark.django_db
def test_readyz_is_unavailable_while_a_migration_is_pending(client):
    # The newest recorded migration "unapplied" (rolled back with the test).
    MigrationRecorder(connection).migration_qs.order_by("-id").first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "failed"},
    }


def test_readyz_is_unavailable_when_the_database_is_unreachable():
    # A separate process: its only database is a port nothing listens on.
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(json.dumps([r.status_code, r.json()]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/maestra",
        "CELERY_BROKER_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, body = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": "failed", "migrations": "failed"},
    }


@pytest.mark.django_db
def test_readyz_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok", "broker": "failed"}


@pytest.mark.django_db
def test_readyz_is_ready_with_a_reachable_broker(client, settings):
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        unavailable("Redis broker readiness", "TEST_REDIS_URL is not set")
    settings.CELERY_BROKER_URL = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_probes_skip_the_ssl_redirect_host_check_and_session(client, settings):
    # Production settings: https redirect on, one public host. A probe comes over
    # http with the instance's address as Host.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["mcp.maestra.example"]
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.0.3.7:8000")
        assert response.status_code == 200, path
        assert not response.cookies
    # Every other path still gets the redirect.
    assert client.get("/login/", HTTP_HOST="mcp.maestra.example").status_code == 301


def test_probes_answer_only_get_and_head(client, db):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code != 200
