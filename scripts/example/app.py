"""The example app scripts/serve-example.sh serves: a plain WSGI callable."""
import json


def application(environ, start_response):
    if environ["PATH_INFO"] == "/json":
        body = json.dumps({"server": "gthreadd", "path": environ["PATH_INFO"]}).encode()
        ctype = "application/json"
    else:
        body = b"Hello from gthreadd!\n"
        ctype = "text/plain; charset=utf-8"
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
