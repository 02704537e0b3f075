# A gunicorn.conf.py using every kind of thing operators put in one: settings, a helper
# import, hooks (each records its call in $HOOK_LOG), a hook that raises and a name that is
# not a setting.
import os

raw_env = ["FROM_CONF=yes"]
timeout = 20
not_a_setting = 42
HOOK_LOG = os.environ["HOOK_LOG"]


def _record(*words):
    with open(HOOK_LOG, "a") as f:
        f.write(" ".join(str(w) for w in words) + "\n")


def on_starting(server):
    _record("on_starting", server.cfg.timeout, server.num_workers)


def when_ready(server):
    _record("when_ready")
    raise RuntimeError("when_ready failed on purpose")


def pre_fork(server, worker):
    _record("pre_fork", worker.age)


def post_fork(server, worker):
    os.environ["HOOK_POST_FORK"] = str(worker.pid)
    server.log.info("post_fork hook ran in %s", worker.pid)
    _record("post_fork", worker.pid, worker.age)


def post_worker_init(worker):
    _record("post_worker_init", worker.pid)


def pre_request(worker, req):
    req.headers.append(("X-HOOK", "added by pre_request"))
    _record("pre_request", req.method, req.path, req.query)


def post_request(worker, req, environ, resp):
    _record("post_request", req.path, resp.status, environ["REQUEST_METHOD"])


def worker_exit(server, worker):
    _record("worker_exit", worker.pid)


def child_exit(server, worker):
    _record("child_exit", worker.pid)


def on_exit(server):
    _record("on_exit")
