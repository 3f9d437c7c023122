import logging
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class MaestraMcpConfig(AppConfig):
    name = "maestra_mcp"
    verbose_name = "Maestra MCP"

    def ready(self) -> None:
        from maestra_mcp import checks  # noqa: F401  (registers system checks)
        from maestra_mcp.oauth import login_throttle  # noqa: F401  (connects its signals)

        if settings.CELERY_TASK_ALWAYS_EAGER:
            logger.info(
                "CELERY_BROKER_URL is not set: background tasks run in-process "
                "(no worker needed). Set it, e.g. redis://127.0.0.1:6379/0, to use a worker."
            )
        # kombu's filesystem transport needs its folders to exist before use.
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            if isinstance(folder, str):
                Path(folder).mkdir(parents=True, exist_ok=True)
