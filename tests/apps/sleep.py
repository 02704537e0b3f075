"""Sleeps 300 ms (releasing the GIL) and returns the thread id that ran it."""
import threading
import time


def app(environ, start_response):
    time.sleep(0.3)
    out = str(threading.get_ident()).encode()
    start_response("200 OK", [("Content-Length", str(len(out)))])
    return [out]


application = app
