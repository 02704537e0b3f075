"""What a process-model test needs to see from inside a worker. The path picks the answer:

    /pid            the pid of the process that ran the request
    /import-pid     the pid that imported this module (the master under --preload)
    /env/NAME       os.environ[NAME], or 404 when it is unset
    /title          this process's /proc/self/cmdline, NULs shown as spaces
    /uid            "uid gid" of the process that ran the request
    /sleep/MS       sleeps MS milliseconds (releasing the GIL), then answers "slept"
    anything else   "ok"

Every answer carries Content-Length, so keep-alive clients can reuse the connection.
$PROCINFO_IMPORT_DELAY (seconds) delays the import, to stand for a slow-booting app.
$PROCINFO_STARTED names a file that /sleep/MS appends "<pid>" to when it starts, so a test
knows a request is in the app before it signals the server.
"""
import os
import time

IMPORT_PID = os.getpid()
if os.environ.get("PROCINFO_IMPORT_DELAY"):
    time.sleep(float(os.environ["PROCINFO_IMPORT_DELAY"]))


def _answer(start_response, status, text):
    body = text.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/pid":
        return _answer(start_response, "200 OK", str(os.getpid()))
    if path == "/import-pid":
        return _answer(start_response, "200 OK", str(IMPORT_PID))
    if path.startswith("/env/"):
        value = os.environ.get(path[len("/env/"):])
        if value is None:
            return _answer(start_response, "404 Not Found", "unset")
        return _answer(start_response, "200 OK", value)
    if path == "/title":
        with open("/proc/self/cmdline", "rb") as f:
            return _answer(start_response, "200 OK", f.read().replace(b"\0", b" ").decode().strip())
    if path == "/uid":
        return _answer(start_response, "200 OK", "%d %d" % (os.getuid(), os.getgid()))
    if path.startswith("/sleep/"):
        marker = os.environ.get("PROCINFO_STARTED")
        if marker:
            fd = os.open(marker, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, b"%d\n" % os.getpid())
            finally:
                os.close(fd)
        time.sleep(int(path[len("/sleep/"):]) / 1000.0)
        return _answer(start_response, "200 OK", "slept")
    return _answer(start_response, "200 OK", "ok")


application = app
