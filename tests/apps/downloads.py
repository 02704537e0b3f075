"""Large responses of every kind a WSGI app returns, for the slow-reader tests (issue 12).

    /gen?mb=N    a generator of 64 KiB pieces (Content-Length), with close()
    /list?mb=N   a one-item list holding the whole body
    /file?mb=N   wsgi.file_wrapper over a temporary file of N MiB
    /closes      "<count>": how many generator bodies had close() called (this process)
    /hello       b"hello"

Each 64 KiB piece is filled with its index mod 256, so a lost or reordered piece shows.
"""
import atexit
import os
import tempfile
import threading

PIECE = 65536
_lock = threading.Lock()
_closes = [0]
_files = {}


def _mb(environ):
    for part in environ.get("QUERY_STRING", "").split("&"):
        if part.startswith("mb="):
            return int(part[3:])
    return 1


def _piece(i):
    return bytes([i % 256]) * PIECE


class _Pieces:
    def __init__(self, count):
        self._count = count

    def __iter__(self):
        return (_piece(i) for i in range(self._count))

    def close(self):
        with _lock:
            _closes[0] += 1


def _file(mb):
    """The path of an N MiB file (made once per process, removed at exit)."""
    with _lock:
        if mb not in _files:
            fd, path = tempfile.mkstemp(prefix="gthreadd-downloads-")
            with os.fdopen(fd, "wb") as f:
                for i in range(mb * 16):
                    f.write(_piece(i))
            atexit.register(os.unlink, path)
            _files[mb] = path
        return _files[mb]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path in ("/gen", "/list", "/file"):
        mb = _mb(environ)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(mb * 16 * PIECE))])
        if path == "/gen":
            return _Pieces(mb * 16)
        if path == "/list":
            return [b"".join(_piece(i) for i in range(mb * 16))]
        f = open(_file(mb), "rb")
        return environ["wsgi.file_wrapper"](f, PIECE)
    if path == "/closes":
        with _lock:
            body = str(_closes[0]).encode()
    else:
        body = b"hello"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = app
