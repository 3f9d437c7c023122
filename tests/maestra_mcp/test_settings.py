"""Configuration from the environment: safe defaults, refusals, deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from maestra_mcp.checks import check_periodic_tasks_have_a_broker
from maestra_mcp.env import env_bool, env_int, env_memory, env_origin

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "a-long-random-production-secret-key-0123456789",
    "MAESTRA_PUBLIC_URL": "https://mcp.maestra.example",
    "ALLOWED_HOSTS": "mcp.maestra.example",
    # Production runs a worker and beat (nothing connects to the broker during checks).
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def run_django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_the_default_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_django(["check"], env)
    assert result.returncode != 0
    assert "refusing to start with the public development key" in result.stderr


def test_debug_runs_on_the_default_key():
    # The warning itself appears when a server starts (tests/maestra_mcp/test_startup.py).
    result = run_django(["check"], {"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_about_a_plain_http_public_url():
    env = {**PRODUCTION_ENV, "MAESTRA_PUBLIC_URL": "http://mcp.maestra.example"}
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "maestra_mcp.W001" in result.stderr


def test_check_deploy_warns_that_without_a_broker_no_purge_runs_periodically():
    env = {**PRODUCTION_ENV, "CELERY_BROKER_URL": ""}
    result = run_django(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "maestra_mcp.W002" in result.stderr
    assert "session-log retention" in result.stderr


@pytest.mark.parametrize(
    ("debug", "broker", "warned"),
    [(False, "", True), (False, "redis://127.0.0.1:6379/0", False), (True, "", False)],
)
def test_broker_check_only_in_production_without_a_broker(settings, debug, broker, warned):
    settings.DEBUG, settings.CELERY_BROKER_URL = debug, broker
    ids = [warning.id for warning in check_periodic_tasks_have_a_broker(None)]
    assert ids == (["maestra_mcp.W002"] if warned else [])


def test_without_a_database_url_start_up_names_the_scripts():
    result = run_django(["check"], {"DEBUG": "true", "DATABASE_URL": ""})
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert "scripts/run" in result.stderr and "scripts/test" in result.stderr


def test_a_database_other_than_postgresql_is_refused():
    result = run_django(["check"], {"DEBUG": "true", "DATABASE_URL": "sqlite:///db.sqlite3"})
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


def test_bad_environment_values_stop_start_up():
    result = run_django(["check"], {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize(
    ("helper", "value", "message"),
    [
        (lambda: env_bool("X_TEST", False), "perhaps", "must be a boolean"),
        (lambda: env_int("X_TEST", 1), "ten", "must be an integer"),
        (lambda: env_int("X_TEST", 1, minimum=0), "-1", "at least 0"),
        (lambda: env_origin("X_TEST", "http://a"), "ftp://host", "http(s) URL"),
        (lambda: env_origin("X_TEST", "http://a"), "https://host/path", "bare origin"),
        (lambda: env_memory("X_TEST", "4MB"), "32", "a size such as 32MB"),
        (lambda: env_memory("X_TEST", "4MB"), "32mb", "a size such as 32MB"),
        (lambda: env_memory("X_TEST", "4MB"), "0MB", "a size such as 32MB"),
        # A startup option: nothing but the size may reach the server's command line.
        (lambda: env_memory("X_TEST", "4MB"), "32MB -c fsync=off", "a size such as 32MB"),
    ],
)
def test_env_helpers_raise_on_bad_values(monkeypatch, helper, value, message):
    monkeypatch.setenv("X_TEST", value)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        helper()


def test_env_origin_strips_trailing_slash(monkeypatch):
    monkeypatch.setenv("X_TEST", "https://mcp.example.com/")
    assert env_origin("X_TEST", "http://a") == "https://mcp.example.com"


@pytest.mark.parametrize("size", ["512kB", "32MB", "1GB"])
def test_env_memory_accepts_postgresql_sizes(monkeypatch, size):
    monkeypatch.setenv("X_TEST", size)
    assert env_memory("X_TEST", "4MB") == size


def _show(cursor, name: str) -> str:
    cursor.execute(f"SHOW {name}")
    return cursor.fetchone()[0]


@pytest.mark.django_db
def test_postgresql_connections_get_the_report_work_mem():
    # 32MB keeps a large account's breakdowns in-memory hash aggregates (see the
    # settings); the server's own default is 4MB.
    from django.db import connection

    with connection.cursor() as cursor:
        assert _show(cursor, "work_mem") == "32MB"
        # Reports are short aggregates: JIT compilation cost more than it saved.
        assert _show(cursor, "jit") == "off"


def test_work_mem_joins_the_options_of_the_database_url():
    # The server's maintenance database; the host may be a %-encoded socket folder.
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    result = run_django(
        [
            "shell",
            "-v",
            "0",
            "-c",
            "from django.db import connection\n"
            "with connection.cursor() as c:\n"
            "    c.execute('SHOW work_mem'); print(c.fetchone()[0])\n"
            "    c.execute('SHOW statement_timeout'); print(c.fetchone()[0])",
        ],
        {
            "DEBUG": "true",
            "DATABASE_URL": f"{database_url}?options=-c%20statement_timeout%3D7s",
            "DATABASE_WORK_MEM": "48MB",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["48MB", "7s"]


def test_migrations_match_the_models():
    result = run_django(["makemigrations", "--check", "--dry-run"], {"DEBUG": "true"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_reporting_database_url_adds_a_replica_alias_like_default():
    # The server's maintenance database stands in for a replica: the alias must
    # connect with the same session options and pool as default, and be the one
    # reports read from unless REPORTING_DATABASE_ALIAS says otherwise.
    replica_url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    result = run_django(
        [
            "shell",
            "-v",
            "0",
            "-c",
            "from django.conf import settings\n"
            "from django.db import connections\n"
            "d, r = (settings.DATABASES[a] for a in ('default', 'reporting'))\n"
            "print(settings.REPORTING_DATABASE_ALIAS, r['OPTIONS'] == d['OPTIONS'],"
            " r['TEST']['MIRROR'], 'pool' in r['OPTIONS'])\n"
            "with connections['reporting'].cursor() as c:\n"
            "    c.execute('SELECT current_database(), current_setting(%s)', ['work_mem'])\n"
            "    print(*c.fetchone())",
        ],
        {"DEBUG": "true", "REPORTING_DATABASE_URL": replica_url, "DATABASE_WORK_MEM": "48MB"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["reporting", "True", "default", "True", "postgres", "48MB"]


def test_a_reporting_database_other_than_postgresql_is_refused():
    result = run_django(
        ["check"], {"DEBUG": "true", "REPORTING_DATABASE_URL": "mysql://u@127.0.0.1/reports"}
    )
    assert result.returncode != 0
    assert "REPORTING_DATABASE_URL must be a postgres:// URL" in result.stderr
