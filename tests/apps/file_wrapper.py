"""Serves a file of 64 KiB + 123 bytes of a known pattern through wsgi.file_wrapper, which
the server may turn into sendfile. The file is generated in the temp dir (not committed)."""
import os
import tempfile

PATH = os.path.join(tempfile.gettempdir(), "gthreadd-file-wrapper-%d.bin" % os.getuid())
SIZE = 65536 + 123


def expected_bytes():
    return bytes((i * 7 + 3) % 251 for i in range(SIZE))


def _ensure_file():
    # Generated rather than committed as a binary blob; written atomically so two workers
    # starting together never serve a half-written file.
    if os.path.exists(PATH) and os.path.getsize(PATH) == SIZE:
        return
    tmp = "%s.%d" % (PATH, os.getpid())
    with open(tmp, "wb") as f:
        f.write(expected_bytes())
    os.replace(tmp, PATH)


_ensure_file()


def app(environ, start_response):
    f = open(PATH, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(SIZE))])
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is None:
        return iter(lambda: f.read(8192), b"")
    return wrapper(f, 8192)


application = app
