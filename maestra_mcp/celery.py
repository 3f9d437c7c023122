"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestra_mcp.settings")

app = Celery("maestra_mcp")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def _in_process_broker_without_a_url(sender: Celery, **kwargs) -> None:
    # Eager tasks never reach a broker, but Celery still opens a producer to pick a
    # serializer; an unset URL means amqp with no host, and kombu warns "No hostname
    # was supplied" on every enqueue. The in-memory transport, named, stays silent.
    # (A signal, not an `if` here: reading app.conf now would load the settings early.)
    if not sender.conf.broker_url:
        sender.conf.broker_url = "memory://localhost/"


app.autodiscover_tasks()
# The project app keeps its tasks in sub-packages; Celery only looks for <app>.tasks.
app.autodiscover_tasks(["maestra_mcp.session_logs", "maestra_mcp.oauth"])
