"""Settings for the test suite: the project's settings in development mode.

The public development key is acceptable here; production behaviour (refusing
that key, ``check --deploy``) is tested in subprocesses with explicit
environments (tests/maestra_mcp/test_settings.py).
"""

import os

os.environ.setdefault("DEBUG", "true")

from maestra_mcp.settings import *  # noqa: F403

# Flush by DELETE instead of TRUNCATE after transactional tests (why: the backend's
# docstring); everything else is Django's PostgreSQL backend.
for _database in DATABASES.values():  # noqa: F405
    _database["ENGINE"] = "tests.support.postgresql"
