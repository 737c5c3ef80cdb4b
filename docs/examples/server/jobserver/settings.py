"""Settings of the reference server, every one from the environment.

A process of the server is told where everything is by environment
variables (devstack.py sets them for the processes it starts):

JOBSERVER_DB_HOST, _DB_PORT, _DB_NAME, _DB_USER, _DB_PASSWORD
    the PostgreSQL database that holds the job records, git state, load
    errors and runs (one for every process, on every machine)
JOBSERVER_REDIS_URL
    Celery's broker, e.g. redis://127.0.0.1:6379/0
JOBSERVER_GIT_ROOT
    where this process keeps its git checkouts (one per Celery worker)
JOBSERVER_WORKER_NAME
    a Celery worker's name (its -n and its own queue); empty in the web
JOBSERVER_WORKERS
    the web's list of worker names, comma-separated: the "Run on" choices
JOBSERVER_SECRET_KEY, JOBSERVER_DEBUG
    Django's SECRET_KEY and DEBUG
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"the environment variable {name} is not set (see jobserver/settings.py)")
    return value


SECRET_KEY = env("JOBSERVER_SECRET_KEY", "dev-only-not-secret")
DEBUG = env("JOBSERVER_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.sessions",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "jobserver.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# No ATOMIC_REQUESTS: the storage backend (jobs/storage.py) opens its own
# transaction for each library call, and an outer one would keep its
# advisory lock until the request ends.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": env("JOBSERVER_DB_HOST", "127.0.0.1"),
        "PORT": env("JOBSERVER_DB_PORT", "5432"),
        "NAME": env("JOBSERVER_DB_NAME", "jobserver"),
        "USER": env("JOBSERVER_DB_USER", "jobserver"),
        "PASSWORD": env("JOBSERVER_DB_PASSWORD", ""),
        "CONN_MAX_AGE": 60,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

USE_TZ = True
TIME_ZONE = "UTC"

# Celery (jobserver/celery.py reads the CELERY_* names).
CELERY_BROKER_URL = env("JOBSERVER_REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True        # runs are stored by the library, not by Celery
CELERY_WORKER_PREFETCH_MULTIPLIER = 1   # one job at a time per pool process
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

JOBSERVER_GIT_ROOT = env("JOBSERVER_GIT_ROOT", str(BASE_DIR / "git"))
JOBSERVER_WORKER_NAME = env("JOBSERVER_WORKER_NAME", "")
JOBSERVER_WORKERS = [w for w in env("JOBSERVER_WORKERS", "").split(",") if w]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
