"""The import contracts in pyproject.toml: the domain apps stay free of MCP and OAuth,
the MCP catalog stays free of the server that serves it, and the layers
``maestra_mcp : permissions : reporting : accounts`` import downwards only.

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
    """A copy of the apps in which the package ``app`` gains a module ``leak.py`` holding
    ``source``."""
    for name in APPS:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / app.replace(".", "/") / "leak.py").write_text(source)
    return tmp_path


def test_the_apps_keep_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_the_contracts_are_the_layers_and_two_forbidden_lists_without_exceptions():
    config = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    types = sorted(contract["type"] for contract in contracts)
    assert types == ["forbidden", "forbidden", "layers"]
    (layers,) = (contract for contract in contracts if contract["type"] == "layers")
    assert layers["layers"] == ["maestra_mcp", "permissions", "reporting", "accounts"]
    assert not any("ignore_imports" in contract for contract in contracts)


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
    assert "Contracts: 2 kept, 1 broken." in result.stdout
    assert broken in result.stdout
    assert f"{app}.leak -> " in result.stdout


def test_the_catalog_importing_the_server_breaks_its_contract(tmp_path):
    """A tool module reaching for the endpoint (e.g. to read the request) is refused."""
    source = "from maestra_mcp.mcp_server.endpoint import McpEndpoint  # noqa: F401\n"
    result = lint_imports(copy_apps_with(tmp_path, "maestra_mcp.mcp_catalog.tools", source))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contracts: 2 kept, 1 broken." in result.stdout
    output = result.stdout
    assert "maestra_mcp.mcp_catalog is not allowed to import maestra_mcp.mcp_server" in output
    assert "maestra_mcp.mcp_catalog.tools.leak -> maestra_mcp.mcp_server.endpoint" in output


def test_an_indirect_import_of_oauth_from_accounts_breaks_the_contract(tmp_path):
    """A copy of the apps plus one module that reaches OAuth through offboarding."""
    source = "from maestra_mcp.offboarding import account_offboard  # noqa: F401\n"
    result = lint_imports(copy_apps_with(tmp_path, "accounts", source))

    assert result.returncode == 1, result.stdout + result.stderr
    # Both contracts: the forbidden list, and the layers (accounts under maestra_mcp).
    assert "Contracts: 1 kept, 2 broken." in result.stdout
    assert "accounts is not allowed to import maestra_mcp.oauth" in result.stdout
    assert "accounts.leak -> maestra_mcp.offboarding" in result.stdout
