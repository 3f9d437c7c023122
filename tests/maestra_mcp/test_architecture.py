"""The import contract in pyproject.toml: the domain apps stay free of MCP and OAuth.

Run through ``lint-imports`` itself (the command a developer runs), so what CI
checks is exactly the configured contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyproject.toml"
APPS = ["accounts", "permissions", "reporting", "maestra_mcp"]
# The venv's console script, beside the interpreter running the tests.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    """Check the contract on the apps found in ``cwd``; no cache left behind."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(CONFIG)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_domain_apps_keep_the_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_indirect_import_of_oauth_from_accounts_breaks_the_contract(tmp_path):
    """A copy of the apps plus one module that reaches OAuth through offboarding."""
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "accounts" / "leak.py").write_text(
        "from maestra_mcp.offboarding import account_offboard  # noqa: F401\n"
    )

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 0 kept, 1 broken." in result.stdout
    assert "accounts is not allowed to import maestra_mcp.oauth" in result.stdout
    assert "accounts.leak -> maestra_mcp.offboarding" in result.stdout
