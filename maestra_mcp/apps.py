from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class MaestraMcpConfig(AppConfig):
    name = "maestra_mcp"
    verbose_name = "Maestra MCP"

    def ready(self) -> None:
        from maestra_mcp import checks  # noqa: F401  (registers system checks)
        from maestra_mcp.operations.logs import connect_signals
        from maestra_mcp.operations.metrics import observe_import
        from reporting.signals import stats_import_finished

        connect_signals()
        stats_import_finished.connect(observe_import, dispatch_uid="maestra_import_metrics")

        # kombu's filesystem transport needs its folders to exist before use.
        for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
            if isinstance(folder, str):
                Path(folder).mkdir(parents=True, exist_ok=True)
