"""django: WSGI entry point of the minimal Django project in benchsite/ (DEBUG off)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchsite.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402 (settings must be set first)

app = application = get_wsgi_application()
