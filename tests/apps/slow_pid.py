"""Sleeps 100 ms (releasing the GIL) and answers with the worker's pid."""
import os
import time


def app(environ, start_response):
    time.sleep(0.1)
    out = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Length", str(len(out)))])
    return [out]
