"""Apps for the fault tests: long requests, a GIL held in C code, slow downloads, uploads.

/sleep?s=N     sleeps N seconds with the GIL released (a long request: progress)
/spin?s=N      runs Python for N seconds (holds the GIL, but the interpreter switches)
/hold-gil?s=N  calls C's sleep() through ctypes.PyDLL, which keeps the GIL: the interpreter
               cannot be entered for N seconds (what --timeout exists for)
/download?mb=N streams N MiB in 64 KiB pieces
/upload        reads the whole body and answers its length
"""
import ctypes
import time
from urllib.parse import parse_qs

PIECE = b"x" * 65536


def _arg(environ, name, default):
    values = parse_qs(environ.get("QUERY_STRING", "")).get(name)
    return float(values[0]) if values else default


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        time.sleep(_arg(environ, "s", 1))
        body = b"slept"
    elif path == "/spin":
        end = time.monotonic() + _arg(environ, "s", 1)
        n = 0
        while time.monotonic() < end:
            n += 1
        body = b"spun"
    elif path == "/hold-gil":
        ctypes.PyDLL(None).sleep(int(_arg(environ, "s", 1)))
        body = b"held"
    elif path == "/download":
        count = int(_arg(environ, "mb", 1) * 16)
        start_response("200 OK", [("Content-Length", str(count * len(PIECE)))])
        return (PIECE for _ in range(count))
    elif path == "/upload":
        data = environ["wsgi.input"].read()
        body = str(len(data)).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
