"""Records every call so tests can assert the app was NOT called for a rejected request,
nor for anything buffered behind it.

Each call appends one line "METHOD TARGET" to the file named by $GTHREADD_TEST_CALLS (one
O_APPEND write per line, so workers and threads never interleave), before touching the body.
Then it reads the whole body (except on /noread) and answers 200 with
"METHOD PATH?QUERY body=<len>". The returned iterable's close() appends "close TARGET",
which lets tests check close() runs exactly once.
"""
import os


def _record(line):
    path = os.environ.get("GTHREADD_TEST_CALLS")
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode("latin-1", "replace"))
    finally:
        os.close(fd)


class _Body:
    def __init__(self, chunks, target):
        self._chunks = chunks
        self._target = target

    def __iter__(self):
        return iter(self._chunks)

    def close(self):
        _record("close " + self._target)


def app(environ, start_response):
    target = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    _record("%s %s" % (environ["REQUEST_METHOD"], target))
    body = b"" if environ.get("PATH_INFO") == "/noread" else environ["wsgi.input"].read()
    out = ("%s %s body=%d" % (environ["REQUEST_METHOD"], target, len(body))).encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return _Body([out], target)


application = app
