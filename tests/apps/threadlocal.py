"""Counts requests per thread in a threading.local: with one pool thread that keeps its
Python thread state, consecutive requests see 1, 2, 3... Paths starting with "/__" (the
test fixture's readiness probe) are answered without counting."""
import threading

_local = threading.local()


def app(environ, start_response):
    if not environ.get("PATH_INFO", "").startswith("/__"):
        _local.count = getattr(_local, "count", 0) + 1
    out = ("%d %d" % (getattr(_local, "count", 0), threading.get_ident())).encode()
    start_response("200 OK", [("Content-Length", str(len(out)))])
    return [out]


application = app
