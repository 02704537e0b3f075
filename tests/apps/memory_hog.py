"""For test_max_worker_memory.py. /grow?mib=N&sleep=S keeps N MiB more (written, so
resident) in this worker for its life, then sleeps S seconds (GIL released) before it
answers; /pid answers the worker's pid; anything else 200 "ok"."""
import os
import time
from urllib.parse import parse_qs

_kept = []


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/grow":
        query = parse_qs(environ.get("QUERY_STRING", ""))
        mib = int(query.get("mib", ["1"])[0])
        _kept.append(bytearray(b"x") * (mib << 20))
        time.sleep(float(query.get("sleep", ["0"])[0]))
        body = b"%d\n" % os.getpid()
    elif path == "/pid":
        body = b"%d\n" % os.getpid()
    else:
        body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = app
