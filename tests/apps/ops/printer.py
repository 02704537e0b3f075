"""Prints to stdout and stderr on every request (for --capture-output), and answers with the
status the path names: /status/404 → 404."""
import sys


def app(environ, start_response):
    print("app stdout line for", environ["PATH_INFO"])
    sys.stdout.flush()
    print("app stderr line", file=sys.stderr)
    sys.stderr.flush()
    parts = environ["PATH_INFO"].split("/")
    status = parts[2] if len(parts) > 2 and parts[1] == "status" else "200"
    start_response(status + " X", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
