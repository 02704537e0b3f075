"""/raise raises before start_response (the server answers 500 and keeps serving);
/modules lists which of a few modules the worker has imported since it imported this app;
/boot-modules lists the ones that were already imported by then, and /executable is
sys.executable; any other path answers 200 "ok".

The interpreter's own start-up may import some of these before the server does anything:
a Debian package's *-nspkg.pth (python3-zope.interface, python3-matplotlib, ...) runs
`__import__('importlib.util')` from site. So that /modules shows what the *server* imports
after this point wherever the tests run, the ones already present are dropped from
sys.modules here: whoever holds them keeps them, and a later import of one loads it afresh
and puts it back, which /modules then sees."""
import sys

WATCHED = ("importlib", "traceback")
BOOT_MODULES = [m for m in WATCHED if m in sys.modules]
for _name in BOOT_MODULES:
    del sys.modules[_name]


class AppFailure(Exception):
    pass


def _answer(start_response, text):
    body = text.encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO")
    if path == "/raise":
        raise AppFailure("deliberate failure for the test suite")
    if path == "/modules":
        return _answer(start_response, " ".join(m for m in WATCHED if m in sys.modules))
    if path == "/boot-modules":
        return _answer(start_response, " ".join(BOOT_MODULES))
    if path == "/executable":
        return _answer(start_response, sys.executable)
    return _answer(start_response, "ok")


application = app
