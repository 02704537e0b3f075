"""sleepy: an I/O-bound app; each call blocks 20 ms without the GIL.

The ceiling is workers x threads / 20 ms (2 x 4 / 0.02 s = 400 req/s by default).
"""
import time

BODY = b"slept 20 ms\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    time.sleep(0.020)
    start_response("200 OK", HEADERS)
    return [BODY]
