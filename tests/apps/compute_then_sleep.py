"""/work computes for 50 ms holding the GIL, then sleeps 2 s without it; anything else
answers at once. For the pool's wake-up policy: a request behind /work must not wait for
it to end once it sleeps (tests/integration/test_concurrency.py)."""
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/work":
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            pass
        time.sleep(2)
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
