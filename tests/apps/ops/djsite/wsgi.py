"""WSGI entry point; creates the notes table on first start (no migrations in a test)."""
import fcntl
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsite.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.db import connection  # noqa: E402
from djsite.notes.models import Note  # noqa: E402

# Every worker imports this module at once: without the lock two of them could both see no
# table, and the second CREATE TABLE failed the worker's boot (exit 4 halted the server).
with open(os.environ.get("DJSITE_DB", "/tmp/djsite.sqlite3") + ".lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if Note._meta.db_table not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(Note)
    connection.close()
