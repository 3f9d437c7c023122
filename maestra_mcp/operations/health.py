"""``/healthz`` (liveness) and ``/readyz`` (readiness) for load balancers and orchestrators.

Served by a middleware placed first in ``MIDDLEWARE`` rather than by URL
patterns, because a probe is not a page request: it comes over plain http from
inside the network (no SSL redirect), often with the instance's own address as
``Host`` (no ``ALLOWED_HOSTS`` check, which would answer 400), and must not start a
session, set a CSRF cookie or touch the database when only liveness is asked.
The answers say nothing an outsider could use: a status per check, no versions,
no error text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
# Seconds a readiness probe waits for the broker; probes time out after a few seconds.
BROKER_TIMEOUT_SECONDS = 2.0


def check_database(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """True when a query on ``alias`` succeeds."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("readiness: database %r is unreachable", alias, exc_info=True)
        return False
    return True


def check_migrations(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """True when every migration this code knows of is applied (as ``migrate --check``)."""
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.warning("readiness: cannot read the applied migrations", exc_info=True)
        return False
    if plan:
        logger.warning("readiness: %d migration(s) not applied", len(plan))
    return not plan


def check_broker() -> bool:
    """True when the Celery broker accepts a connection."""
    from maestra_mcp.celery import app

    try:
        with app.connection_for_write(
            url=settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # kombu raises the transport's own errors (redis, OSError, …)
        logger.warning("readiness: the Celery broker is unreachable", exc_info=True)
        return False
    return True


def readiness() -> dict[str, bool]:
    """Each readiness check by name; the broker only when one is configured."""
    checks = {"database": check_database()}
    # Without a database there are no migrations to read: report them as not ready
    # rather than waiting for a second connection timeout.
    checks["migrations"] = checks["database"] and check_migrations()
    if settings.CELERY_BROKER_URL:
        checks["broker"] = check_broker()
    return checks


def _probe_response(checks: dict[str, bool]) -> JsonResponse:
    ok = all(checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {name: "ok" if passed else "failed" for name, passed in checks.items()},
    }
    response = JsonResponse(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers the probes before any other middleware sees the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"GET", "HEAD"}:
            if request.path == HEALTH_PATH:
                return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
            if request.path == READY_PATH:
                return _probe_response(readiness())
        return self.get_response(request)
