"""/metrics: off without METRICS_TOKEN, bearer-protected, and what the app counts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from prometheus_client import REGISTRY

from maestra_mcp.session_logs.services import session_log_purge_expired
from reporting.errors import StatsImportError
from reporting.services.stats_import import stats_import
from tests.maestra_mcp.test_settings import ROOT
from tests.support.reports import BASE_ROW, csv_text, import_rows

TOKEN = "scrape-" + "s" * 32


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, token: str | None = TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client).status_code == 404
    assert scrape(client, "").status_code == 404


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x"])
def test_a_wrong_or_missing_token_is_404(client, settings, token):
    settings.METRICS_TOKEN = TOKEN
    assert scrape(client, token).status_code == 404


def test_the_scraper_reads_the_exposition_format(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.SECURE_SSL_REDIRECT = True  # a scrape comes over http, by address
    settings.ALLOWED_HOSTS = ["mcp.maestra.example"]
    response = scrape(client, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "maestra_mcp_requests_total",
        "maestra_mcp_refusals_total",
        "maestra_mcp_request_duration_seconds",
        "maestra_stats_imports_total",
        "maestra_session_log_purge_runs_total",
        "process_cpu_seconds_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in body, name
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_django_requests_are_timed_by_url_name(client, db):
    before = sample("maestra_http_request_duration_seconds_count", view="login", method="GET")
    client.get("/login/")
    client.generic("BREW", "/login/")
    after = sample("maestra_http_request_duration_seconds_count", view="login", method="GET")
    assert after == before + 1
    assert sample("maestra_http_request_duration_seconds_count", view="login", method="other")


def test_imports_are_counted_with_rows_and_duration(cast):
    imported = sample("maestra_stats_imports_total", outcome="imported")
    rows = sample("maestra_stats_import_rows_total")
    durations = sample("maestra_stats_import_duration_seconds_count")
    import_rows(cast.acme, [BASE_ROW, {**BASE_ROW, "channel": "sms"}])
    stats_import(account=cast.acme, lines=csv_text([BASE_ROW]).splitlines(True), dry_run=True)
    with pytest.raises(StatsImportError):
        import_rows(cast.acme, [{**BASE_ROW, "sends": "x"}])
    assert sample("maestra_stats_imports_total", outcome="imported") == imported + 1
    assert sample("maestra_stats_imports_total", outcome="dry_run") >= 1
    assert sample("maestra_stats_imports_total", outcome="refused") >= 1
    assert sample("maestra_stats_import_rows_total") == rows + 3
    assert sample("maestra_stats_import_duration_seconds_count") == durations + 3


def test_purge_runs_are_counted(db):
    runs = sample("maestra_session_log_purge_runs_total", kind="retention")
    session_log_purge_expired()
    assert sample("maestra_session_log_purge_runs_total", kind="retention") == runs + 1


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_multiprocess_mode_adds_up_every_process_of_the_instance(tmp_path):
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "METRICS_TOKEN": TOKEN}
    # Two processes import (as `manage.py import_stats` runs would); a third serves /metrics.
    for rows in (7, 5):
        observed = run_python(
            "from maestra_mcp.operations.metrics import observe_import\n"
            f"observe_import(outcome='imported', rows={rows}, seconds=1.0)",
            env,
        )
        assert observed.returncode == 0, observed.stderr
    served = run_python(
        "from django.test import Client\n"
        f"r = Client().get('/metrics', HTTP_AUTHORIZATION='Bearer {TOKEN}')\n"
        "print(r.status_code); print(r.content.decode())",
        env,
    )
    assert served.returncode == 0, served.stderr
    assert served.stdout.startswith("200")
    assert "maestra_stats_import_rows_total 12.0" in served.stdout
    assert 'maestra_stats_imports_total{outcome="imported"} 2.0' in served.stdout
