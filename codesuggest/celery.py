"""The Celery app: `celery -A codesuggest worker` (and `beat` for the periodic purge).

Its configuration is the `CELERY_*` block of settings.py; with no broker configured, tasks run
in-process (eager), so the embedded default needs no worker.
"""

import os

from celery import Celery

# logs: its signal handlers carry a request's id into the tasks it queues and their log lines.
from codesuggest import logs, redis_transport  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")
# A Redis restart must not end a worker (kombu 5.7.0 could crash on it; see the module).
redis_transport.use_for_redis_urls()

app = Celery("codesuggest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
