"""Prometheus metrics (prometheus-client) and their ``/metrics`` endpoint.

The endpoint is off unless ``METRICS_TOKEN`` is set, and then answers only a
request carrying ``Authorization: Bearer <METRICS_TOKEN>`` (404 otherwise, so an
outsider cannot tell it exists). Like the probes it is answered before the SSL
redirect and the host check: a scraper reaches each instance by its address.

Processes: by default each process exposes its own registry (one uvicorn worker
per instance, scraped per instance). With ``PROMETHEUS_MULTIPROC_DIR`` set (read by
prometheus-client itself) every process of the instance — uvicorn workers, Celery
workers, ``manage.py import_stats`` — writes its samples to files in that folder,
and ``/metrics`` adds them up (the README's Operations section).

Label values are bounded, whatever a client sends: MCP methods outside the
specification's and tools this server does not have count as "other", refusal
reasons are the endpoint's fixed codes, Django requests go by URL name.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

METRICS_PATH = "/metrics"
_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# The methods a client sends to an MCP server (the specification's); anything else
# a client invents is counted as "other".
MCP_METHODS = {
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/cancelled",
    "notifications/roots/list_changed",
}

MCP_REQUESTS = Counter(
    "maestra_mcp_requests",
    "MCP requests by JSON-RPC method, tool and outcome (success, error, refused, sign_in).",
    ["method", "tool", "status"],
)
MCP_REFUSALS = Counter(
    "maestra_mcp_refusals",
    "MCP requests refused before the SDK, by reason (no_token, invalid_token, "
    "policy:<reason>, no_account, transport, busy, …).",
    ["reason"],
)
MCP_LATENCY = Histogram(
    "maestra_mcp_request_duration_seconds",
    "MCP request latency, from the request to the response sent.",
    ["method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
HTTP_LATENCY = Histogram(
    "maestra_http_request_duration_seconds",
    "Latency of Django requests (pages, admin, OAuth, the platform API), by URL name.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IMPORTS = Counter(
    "maestra_stats_imports",
    "Statistics imports by outcome (imported, dry_run, refused).",
    ["outcome"],
)
IMPORT_ROWS = Counter("maestra_stats_import_rows", "Rows of imported statistics files.")
IMPORT_DURATION = Histogram(
    "maestra_stats_import_duration_seconds",
    "Duration of a statistics import (parse, validate, store), refused ones included.",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
PURGE_RUNS = Counter(
    "maestra_session_log_purge_runs",
    "Session-log purges run, by kind (retention, offboarding).",
    ["kind"],
)
PURGED_ROWS = Counter(
    "maestra_session_log_purged_rows",
    "Session-log rows deleted by purges, by kind.",
    ["kind"],
)


def observe_mcp_request(
    *, method: str, tool: str, status: str, refusal_reason: str | None, seconds: float
) -> None:
    """One MCP request, as the endpoint saw it (called once it has answered)."""
    method = "-" if not method else method if method in MCP_METHODS else "other"
    MCP_REQUESTS.labels(method=method, tool=tool or "-", status=status).inc()
    MCP_LATENCY.labels(method=method).observe(seconds)
    if refusal_reason is not None:
        # Free text after the code (DOT's error description) would multiply the series.
        MCP_REFUSALS.labels(reason=refusal_reason.split(" ", 1)[0]).inc()


def observe_import(*, outcome: str, rows: int, seconds: float, **signal) -> None:
    """Receiver of ``reporting.signals.stats_import_finished`` (connected in apps.ready)."""
    IMPORTS.labels(outcome=outcome).inc()
    IMPORT_ROWS.inc(rows)
    IMPORT_DURATION.observe(seconds)


def observe_purge(*, kind: str, rows: int) -> None:
    PURGE_RUNS.labels(kind=kind).inc()
    PURGED_ROWS.labels(kind=kind).inc(rows)


def _exposition() -> bytes:
    if settings.PROMETHEUS_MULTIPROC_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(offered.strip().encode(), token.encode())
    )


class MetricsMiddleware:
    """Serves ``/metrics`` to the scraper; times every other Django request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == METRICS_PATH:
            if request.method != "GET" or not _authorized(request):
                return HttpResponseNotFound()
            return HttpResponse(_exposition(), content_type=CONTENT_TYPE_LATEST)
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "unmatched"
        method = request.method if request.method in _HTTP_METHODS else "other"
        HTTP_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
        return response
