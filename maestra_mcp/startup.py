"""Notices worth one line when a server process starts, and never otherwise.

Settings and ``AppConfig.ready()`` run for every ``manage.py`` command (``--help``
included) and every Celery process, where these notices are noise; the WSGI and
ASGI entry points call :func:`log_startup_notices` once per serving process instead.
"""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def log_startup_notices() -> None:
    """Warn about the development key, and say where background tasks run."""
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        logger.warning(
            "SECRET_KEY is not set: using the public development key (fine for DEBUG only)."
        )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        logger.info(
            "CELERY_BROKER_URL is not set: background tasks run in-process "
            "(no worker needed). Set it, e.g. redis://127.0.0.1:6379/0, to use a worker."
        )
