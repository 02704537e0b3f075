"""Shows what gunicorn.conf.py hooks did: the header pre_request added (HTTP_X_HOOK) and
the value post_fork set in this worker (HOOK_POST_FORK)."""
import json
import os


def app(environ, start_response):
    body = json.dumps({
        "x_hook": environ.get("HTTP_X_HOOK"),
        "post_fork": os.environ.get("HOOK_POST_FORK"),
        "from_conf": os.environ.get("FROM_CONF"),
        "pid": os.getpid(),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
