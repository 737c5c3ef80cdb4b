"""The Celery app: Redis broker, tasks in jobs/tasks.py.

Start a worker with its own name, queue and git root:

    JOBSERVER_WORKER_NAME=w1 JOBSERVER_GIT_ROOT=/srv/git-w1 \
        celery -A jobserver worker -n w1@%h -Q default,w1 --concurrency 2
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobserver.settings")

app = Celery("jobserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
