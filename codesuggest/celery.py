"""The Celery app: `celery -A codesuggest worker` (and `beat` for the periodic purge).

Its configuration is the `CELERY_*` block of settings.py; with no broker configured, tasks run
in-process (eager), so the embedded default needs no worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codesuggest.settings")

app = Celery("codesuggest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
