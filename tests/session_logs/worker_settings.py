"""Settings of the Celery worker processes that test_worker.py starts.

The test settings, plus a one-second Redis visibility timeout so the task of a
worker killed mid-purge is redelivered within seconds instead of the default
hour. The restore scan's mutex expires as fast: a worker killed while holding
it would otherwise block every redelivery for kombu's default five minutes.
"""

import os

from tests.settings import *  # noqa: F403

if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 1, "unacked_mutex_expire": 1}

# The test's own queue, so tasks a task enqueues (the sweeper's purges) stay on it.
CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_CELERY_QUEUE"]
