"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")

app = Celery("maestra_mcp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The project app keeps its tasks in sub-packages; Celery only looks for <app>.tasks.
app.autodiscover_tasks(["maestra_mcp.session_logs", "maestra_mcp.oauth"])
