"""Start-up notices: once when a server process starts, never on a management command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.maestra_mcp.test_settings import ROOT, run_django

SECRET_KEY_NOTICE = "SECRET_KEY is not set"
CELERY_NOTICE = "CELERY_BROKER_URL is not set"
DEVELOPMENT = {"DEBUG": "true", "CELERY_BROKER_URL": ""}


def import_entry_point(module: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Import a server entry point in a fresh process, as uvicorn or gunicorn would."""
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", [["--help"], ["check"], ["help", "import_stats"]])
def test_management_commands_print_only_their_own_output(args):
    result = run_django(args, DEVELOPMENT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert SECRET_KEY_NOTICE not in result.stdout and CELERY_NOTICE not in result.stdout


@pytest.mark.parametrize("module", ["maestra_mcp.asgi", "maestra_mcp.wsgi"])
def test_a_server_process_logs_each_notice_once(module):
    result = import_entry_point(module, DEVELOPMENT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(SECRET_KEY_NOTICE) == 1
    assert result.stderr.count(CELERY_NOTICE) == 1


def test_a_configured_server_logs_neither_notice():
    env = {
        "DEBUG": "true",
        "SECRET_KEY": "a-real-secret-" + "x" * 40,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",  # not contacted at import
    }
    result = import_entry_point("maestra_mcp.wsgi", env)
    assert result.returncode == 0, result.stderr
    assert SECRET_KEY_NOTICE not in result.stderr and CELERY_NOTICE not in result.stderr
