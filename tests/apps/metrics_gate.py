"""For test_metrics.py. /hold?PATH waits (GIL released) until the file PATH exists, at most
30 s, so a test can keep requests running while it scrapes; /NNN answers status NNN;
anything else 200."""
import os
import time


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/hold":
        gate = environ.get("QUERY_STRING", "")
        deadline = time.monotonic() + 30
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        code = "200"
    else:
        code = path.strip("/")
        if not (code.isdigit() and len(code) == 3 and code[0] in "12345"):
            code = "200"
    start_response("%s Whatever" % code, [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]


application = app
