"""Settings of the Celery worker processes that test_worker.py starts.

The test settings, plus Redis redelivery in seconds instead of kombu's
production pace (a one-hour visibility timeout, a scan every 100 s):

- ``visibility_timeout``: an unacknowledged task is handed out again 5 s after
  its delivery. Longer than any task of these tests runs, so a live worker's
  task is never redelivered, only a dead worker's.
- ``unacked_restore_interval`` / ``unacked_restore_throttle``: kombu 5.7 scans
  for such tasks once when a worker starts and then every interval * throttle
  seconds (10 * 10 by default). A worker that starts within the visibility
  timeout of the killed worker's delivery finds nothing on its first scan, so
  it must scan again every second, not in 100 s.
- ``unacked_mutex_expire``: a worker killed while holding the scan's mutex
  would otherwise block every scan for kombu's default five minutes.
"""

import os

from tests.settings import *  # noqa: F403

if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 5,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": 1,
    }

# The test's own queue, so tasks a task enqueues (the sweeper's purges) stay on it.
CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_CELERY_QUEUE"]
