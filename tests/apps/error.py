"""/raise raises before start_response (the server answers 500 and keeps serving);
/modules lists which of a few modules the worker has imported; any other path answers
200 "ok"."""
import sys


class AppFailure(Exception):
    pass


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/raise":
        raise AppFailure("deliberate failure for the test suite")
    if environ.get("PATH_INFO") == "/modules":
        body = " ".join(m for m in ("importlib", "traceback") if m in sys.modules).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


application = app
