"""WSGI entry point; creates the notes table on first start (no migrations in a test)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.db import connection  # noqa: E402
from djsite.notes.models import Note  # noqa: E402

if Note._meta.db_table not in connection.introspection.table_names():
    with connection.schema_editor() as editor:
        editor.create_model(Note)
connection.close()
