"""The import contracts in pyproject.toml: the domain apps stay free of MCP and OAuth,
and the layers ``maestra_mcp : permissions : reporting : accounts`` import downwards only.

Run through ``lint-imports`` itself (the command a developer runs), so what CI
checks is exactly the configured contracts.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def copy_apps_with(tmp_path: Path, app: str, source: str) -> Path:
    """A copy of the apps in which ``app`` gains a module ``leak.py`` holding ``source``."""
    for name in APPS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / app / "leak.py").write_text(source)
    return tmp_path


def test_the_apps_keep_both_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_the_contracts_are_the_layers_and_the_forbidden_list_without_exceptions():
    config = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]
    contracts = {contract["type"]: contract for contract in config["contracts"]}
    assert sorted(contracts) == ["forbidden", "layers"]
    assert contracts["layers"]["layers"] == ["maestra_mcp", "permissions", "reporting", "accounts"]
    assert not any("ignore_imports" in contract for contract in config["contracts"])


@pytest.mark.parametrize(
    ("app", "source", "broken"),
    [
        (
            "accounts",
            "from permissions.policy import MCP_ACCESS_PERMISSION  # noqa: F401\n",
            "accounts is not allowed to import permissions",
        ),
        (
            "reporting",
            "from permissions.brand_scope import allowed_brand_ids  # noqa: F401\n",
            "reporting is not allowed to import permissions",
        ),
        (
            "permissions",
            "from maestra_mcp.env import env_bool  # noqa: F401\n",
            "permissions is not allowed to import maestra_mcp",
        ),
    ],
)
def test_an_upward_import_breaks_the_layers(tmp_path, app, source, broken):
    result = lint_imports(copy_apps_with(tmp_path, app, source))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 1 kept, 1 broken." in result.stdout
    assert broken in result.stdout
    assert f"{app}.leak -> " in result.stdout


def test_an_indirect_import_of_oauth_from_accounts_breaks_the_contract(tmp_path):
    """A copy of the apps plus one module that reaches OAuth through offboarding."""
    source = "from maestra_mcp.offboarding import account_offboard  # noqa: F401\n"
    result = lint_imports(copy_apps_with(tmp_path, "accounts", source))

    assert result.returncode == 1, result.stdout + result.stderr
    # Both contracts: the forbidden list, and the layers (accounts under maestra_mcp).
    assert "Contracts: 0 kept, 2 broken." in result.stdout
    assert "accounts is not allowed to import maestra_mcp.oauth" in result.stdout
    assert "accounts.leak -> maestra_mcp.offboarding" in result.stdout
