# gunicorn.conf.py that works unchanged with gunicorn and gthreadd:
#   gthreadd -c gunicorn.conf.py mysite.wsgi
# Module-level names are settings; functions with gunicorn's hook names are server hooks.
import multiprocessing
import os

wsgi_app = "mysite.wsgi:application"
chdir = "/srv/mysite"
raw_env = ["DJANGO_SETTINGS_MODULE=mysite.settings"]

# nginx-site.conf's upstream and a loopback health-check port; under systemd socket
# activation gthreadd.socket's ListenStream lines (the same two addresses) are used instead.
bind = ["unix:/run/gthreadd/gthreadd.sock", "127.0.0.1:8000"]
backlog = 2048

worker_class = "gthread"          # gthreadd provides only gthread ("sync" runs as gthread)
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = 4
worker_connections = 1000
max_requests = 10000
max_requests_jitter = 500
timeout = 30
graceful_timeout = 30
keepalive = 5

limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

forwarded_allow_ips = "127.0.0.1,::1"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https", "X-FORWARDED-SSL": "on"}

proc_name = "mysite"
errorlog = "-"
loglevel = "info"
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def when_ready(server):
    server.log.info("server is ready; spawning workers")


def post_fork(server, worker):
    server.log.info("worker spawned (pid: %s)", worker.pid)


def pre_request(worker, req):
    # Runs on the pool thread before the app; req.headers is a list of (NAME, value).
    req.headers.append(("X-REQUEST-START", "t=%d" % int(__import__("time").time() * 1e6)))


def worker_abort(worker):
    worker.log.warning("worker %s aborted (timeout)", worker.pid)
