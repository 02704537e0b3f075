"""Views that hang, for the hang-report tests (issue 13). Each hang has a view function of
its own, so a traceback names it.

/spin-forever   `while True` in Python (the GIL keeps switching: never a WORKER TIMEOUT)
/sleep-forever  time.sleep(3600) (GIL released)
/hold-gil?s=N   C's sleep() through ctypes.PyDLL, which keeps the GIL for N seconds
/sleep?s=N      time.sleep(N), then "slept" (a slow request that does finish)
/stream-then-sleep  sends the head and a first chunk, then time.sleep(3600)
/               "ok"
"""
import ctypes
import os
import time
from urllib.parse import parse_qs


def spin_forever():
    n = 0
    while True:
        n += 1


def sleep_forever():
    time.sleep(3600)


def hold_gil(seconds):
    ctypes.PyDLL(None).sleep(seconds)


def sleep_for(seconds):
    time.sleep(seconds)


def stream_then_sleep():
    yield b"first chunk\n"
    time.sleep(3600)
    yield b"never sent\n"


def started(path):
    """Tells the test the view runs: appends "start PATH" to $HANG_MARKER, if set."""
    marker = os.environ.get("HANG_MARKER")
    if marker:
        with open(marker, "a") as f:
            f.write("start %s\n" % path)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path != "/":
        started(path)
    if path == "/spin-forever":
        spin_forever()
    elif path == "/sleep-forever":
        sleep_forever()
    elif path == "/hold-gil":
        seconds = parse_qs(environ.get("QUERY_STRING", "")).get("s", ["1"])[0]
        hold_gil(int(seconds))
    elif path == "/sleep":
        sleep_for(float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["1"])[0]))
        body = b"slept"
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    elif path == "/stream-then-sleep":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return stream_then_sleep()
    body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
