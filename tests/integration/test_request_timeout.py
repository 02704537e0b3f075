"""Issue 13, per-request time limits (gunicorn #2086: gthread has none).

--request-timeout: past it, the request (method, path, peer, seconds) and the Python traceback
of the thread running it (innermost frame last) go to the error-log FILE once; the client gets
504 with Connection: close if nothing of the response was sent (and nothing after it), or
the response is cut short; worker_abort(worker) runs; other threads keep serving; a worker
whose threads are all past the limit is replaced, successor first, with no request refused.

--log-slow-requests: a request still running after it is logged once at WARNING with its
traceback at that moment; the request itself is not touched.

The views tell the test they started by appending to the marker file (tests/apps/hangs.py);
every wait polls a file or a request with a generous deadline."""
import os
import re
import subprocess
import threading
import time

from conftest import APPS, BIN, ConnectionClosed, build_request
from proc_util import alive, wait_until
from test_hang_diagnostics import DEADLINE, hang_server, read, wait_in_file  # noqa: F401 (fixture)

pytestmark = __import__("pytest").mark.skipif(
    BIN is None or "gunicorn" in os.path.basename(BIN or ""), reason="gthreadd's own settings")


def innermost_last(function):
    """A Python-order traceback whose LAST frame is `function` in hangs.py."""
    return (r"Traceback \(most recent call last\):\n(?:  File [^\n]*\n)*?"
            r'  File "[^"]*hangs\.py", line \d+ in %s\n(?!  File)' % function)


def timed_out_request(server, target):
    """Sends GET target on its own connection; returns (response, bytes after it until close)."""
    with server.connect(timeout=DEADLINE) as conn:
        conn.send(build_request("GET", target, [("Connection", "close")]))
        response = conn.read_response()
        rest = conn.read_until_close(timeout=DEADLINE)
    return response, rest


def check_timeout_reported(server, target, function, worker):
    text = wait_in_file(server.error_log, r"Request timeout: GET %s " % re.escape(target),
                        "the timeout report").string
    assert re.search(r"Request timeout: GET %s from 127\.0\.0\.1:\d+ still running after "
                     r"\d+\.\d s \(--request-timeout 1(\.0)?\): answered 504 Gateway Timeout"
                     % re.escape(target), text), text
    report = text[text.index("Request timeout: GET %s " % target):]
    assert re.search(innermost_last(function), report), report
    assert report.index("in app") < report.index("in %s" % function), report
    wait_in_file(server.marker, r"^abort %d$" % worker, "worker_abort to run")
    assert len(re.findall(r"Request timeout: GET %s " % re.escape(target), text)) == 1, text


def test_while_true_view_gets_504_traceback_and_worker_abort_while_other_threads_serve(hang_server):
    server = hang_server(["--request-timeout", "1"], threads=2)
    worker = server.worker_pids()[0]
    response, rest = timed_out_request(server, "/spin-forever")
    assert response.status == 504, response
    assert response.header("Connection", "").lower() == "close", response
    assert rest == b"", rest
    check_timeout_reported(server, "/spin-forever", "spin_forever", worker)
    # The view spins on (Python cannot be interrupted); the other thread still serves.
    for _ in range(3):
        assert server.get("/").status == 200
    assert server.worker_pids() == [worker]


def test_sleeping_view_gets_504_and_its_late_response_is_discarded(hang_server, tmp_path):
    access_log = str(tmp_path / "access.log")
    server = hang_server(["--request-timeout", "1", "--access-logfile", access_log], threads=2)
    worker = server.worker_pids()[0]
    response, rest = timed_out_request(server, "/sleep-forever")
    assert response.status == 504, response
    assert rest == b"", rest
    check_timeout_reported(server, "/sleep-forever", "sleep_forever", worker)
    assert server.get("/").status == 200

    # A view that returns after its limit: the client has its 504 and the connection ends
    # there; the app's "slept" is never written.
    with server.connect(timeout=DEADLINE) as conn:
        conn.send(build_request("GET", "/sleep?s=3", [("Connection", "close")]))
        response = conn.read_response()
        start = time.monotonic()
        rest = conn.read_until_close(timeout=DEADLINE)
        assert time.monotonic() - start < 2.5  # closed at the 504, not when the view returns
    assert response.status == 504, response
    assert b"slept" not in response.body + rest
    wait_in_file(server.error_log, r"Request timeout: GET /sleep\?s=3 ", "the second report")
    # Logged when the view returns, with what the client got: the 504, not the app's 200.
    wait_in_file(access_log, r'"GET /sleep\?s=3 HTTP/1\.1" 504 20 ', "the access-log line")
    # The thread comes back when the view returns and serves again.
    wait_until(lambda: server.get("/sleep?s=0").status == 200, "the thread to serve again", DEADLINE)


def test_view_holding_the_gil_in_c_code_still_gets_504_and_its_traceback(hang_server):
    # ctypes.PyDLL keeps the GIL through C's sleep(): the watcher needs no GIL to notice,
    # answer and read the frames; worker_abort (which needs the GIL) runs once it is free.
    server = hang_server(["--request-timeout", "1"], threads=2)
    worker = server.worker_pids()[0]
    start = time.monotonic()
    response, rest = timed_out_request(server, "/hold-gil?s=4")
    assert response.status == 504, response
    assert time.monotonic() - start < 3.5, "the 504 waited for the GIL"
    text = wait_in_file(server.error_log, r"Request timeout: GET /hold-gil\?s=4 ", "the report").string
    assert re.search(innermost_last("hold_gil"), text), text
    wait_in_file(server.marker, r"^abort %d$" % worker, "worker_abort once the GIL is free")


def test_response_already_started_is_cut_short(hang_server):
    server = hang_server(["--request-timeout", "1"], threads=2)
    with server.connect(timeout=DEADLINE) as conn:
        conn.send(build_request("GET", "/stream-then-sleep", [("Connection", "close")]))
        try:
            response = conn.read_response()
            raise AssertionError("a complete response came: %r" % response)
        except (ConnectionClosed, AssertionError) as e:
            if "a complete response came" in str(e):
                raise
    text = wait_in_file(server.error_log, r"Request timeout: GET /stream-then-sleep ",
                        "the timeout report").string
    assert "part of the response was sent: cut short" in text, text
    assert re.search(innermost_last("stream_then_sleep"), text), text


def test_worker_with_every_thread_past_the_limit_is_replaced_successor_first(hang_server):
    server = hang_server(["--request-timeout", "1", "--graceful-timeout", "3"], threads=2)
    old = server.worker_pids()[0]
    answers = {}

    def ask(target):
        try:
            answers[target] = timed_out_request(server, target)[0]
        except Exception as e:  # noqa: BLE001 - reported by the assertions below
            answers[target] = repr(e)

    stuck = [threading.Thread(target=ask, args=(t,)) for t in ("/sleep-forever", "/spin-forever")]
    for t in stuck:
        t.start()
    wait_in_file(server.marker, r"^start /sleep-forever$", "the first view to start")
    wait_in_file(server.marker, r"^start /spin-forever$", "the second view to start")
    # Both threads busy: this one is accepted (the worker takes its share of what waits when
    # every worker is busy) and queued; once both threads are past the limit, nothing will
    # start it in this worker: it is answered 503 + Connection: close, which nginx retries.
    queued = threading.Thread(target=ask, args=("/?queued",))
    queued.start()
    wait_in_file(server.error_log, r"All 2 threads of worker %d are past --request-timeout" % old,
                 "the worker to find itself wedged")
    # From then on the wedged worker accepts nothing: every request waits in the listen
    # backlog for the successor and is answered; none is refused or dropped.
    statuses = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and alive(old):
        statuses.append(server.get("/").status)
        time.sleep(0.05)
    for t in stuck + [queued]:
        t.join(DEADLINE)
    assert [getattr(answers.get(t), "status", answers.get(t)) for t in ("/sleep-forever", "/spin-forever")] \
        == [504, 504], answers
    assert getattr(answers["/?queued"], "status", None) == 503, answers
    assert answers["/?queued"].header("Connection", "").lower() == "close"
    assert statuses and set(statuses) == {200}, statuses
    wait_until(lambda: not alive(old), "the wedged worker to exit", DEADLINE)
    text = read(server.error_log)
    new = [p for p in server.worker_pids() if p != old]
    assert new, text
    # Successor first: it booted before the old worker was told to stop.
    assert text.index("Booting worker with pid: %d" % new[0]) < text.index("Worker exiting (pid: %d)" % old), text
    assert server.get("/").status == 200


def test_slow_request_is_logged_once_with_its_traceback_and_still_answered(hang_server):
    server = hang_server(["--log-slow-requests", "0.5"], threads=2)
    response = server.get("/sleep?s=2")
    assert response.status == 200 and response.body == b"slept", response
    text = wait_in_file(server.error_log, r"Slow request: GET /sleep\?s=2 ", "the slow log").string
    assert re.search(r"\[WARNING\] Slow request: GET /sleep\?s=2 from 127\.0\.0\.1:\d+ still running "
                     r"after \d+\.\d s \(--log-slow-requests 0\.5\)", text), text
    assert re.search(innermost_last("sleep_for"), text), text
    assert len(re.findall(r"Slow request: GET /sleep\?s=2 ", text)) == 1, text
    assert "Request timeout" not in text
    # Fast requests are not logged.
    assert server.get("/").status == 200
    assert "Slow request: GET / " not in read(server.error_log)


def run(*args, cwd=APPS):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_settings_from_cli_ini_and_py_config_and_bad_values_refused(tmp_path):
    conf = tmp_path / "conf.py"
    conf.write_text("request_timeout = 7.5\nlog_slow_requests = 2\n")
    out = run("--print-config", "-c", str(conf), "hello:app").stdout
    assert re.search(r"^request_timeout\s*=\s*7\.5$", out, re.M), out
    assert re.search(r"^log_slow_requests\s*=\s*2\.0$", out, re.M), out
    ini = tmp_path / "conf.ini"
    ini.write_text("[gthreadd]\nrequest_timeout = 3\nlog_slow_requests = 0.25\n")
    out = run("--print-config", "-c", str(ini), "hello:app").stdout
    assert re.search(r"^request_timeout\s*=\s*3\.0$", out, re.M), out
    assert re.search(r"^log_slow_requests\s*=\s*0\.25$", out, re.M), out
    out = run("--print-config", "hello:app").stdout
    assert re.search(r"^request_timeout\s*=\s*0\.0$", out, re.M), out  # off by default
    assert re.search(r"^log_slow_requests\s*=\s*0\.0$", out, re.M), out
    for bad in ("-1", "soon", "nan"):
        result = run("--check-config", "--request-timeout", bad, "hello:app")
        assert result.returncode != 0, result
        assert "is not a number of seconds >= 0" in result.stderr + result.stdout, result
