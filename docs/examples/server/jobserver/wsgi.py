"""WSGI entry point (gunicorn jobserver.wsgi); the example runs Django's runserver."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobserver.settings")
application = get_wsgi_application()
