"""--metrics-bind: the master's Prometheus endpoint, against the real binary. Counts are
read with prometheus_client's own parser (python3-prometheus-client), never by matching
strings; the last test has a real Prometheus server (Debian's `prometheus`) scrape the
endpoint and compares its rate of gthreadd_requests_total with the requests sent."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import json
import urllib.parse
import urllib.request

import pytest

from conftest import IS_GUNICORN, build_request, exchange

parser = pytest.importorskip("prometheus_client.parser",
                             reason="python3-prometheus-client is not installed")

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gunicorn has no --metrics-bind")

METRICS_RE = re.compile(r"Metrics endpoint listening at: http://127\.0\.0\.1:(\d+)/metrics")
DEADLINE = 30.0


def metrics_server(make_server, tmp_path, workers=2, threads=2, args=()):
    server = make_server("metrics_gate:app", workers=workers, threads=threads,
                         args=["--metrics-bind", "127.0.0.1:0", *args])
    server.metrics_port = int(server.wait_for_log(METRICS_RE, DEADLINE).group(1))
    # A request is counted once its response is written, so a client may read the answer an
    # instant before the count moves: wait for the start-up probe (/__ready__) to be counted,
    # so a test's "before" scrape includes it.
    wait_until(lambda: total(scrape(server), "gthreadd_requests_total") >= 1, "the probe's count")
    return server


def http_get(port, target="/metrics", method="GET"):
    data = exchange(port, ("%s %s HTTP/1.1\r\nHost: t\r\n\r\n" % (method, target)).encode())
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body.decode("utf-8")


def scrape(server):
    """{(sample name, frozenset(labels)): value} from one scrape, parsed by prometheus_client."""
    head, body = http_get(server.metrics_port)
    assert head.startswith("HTTP/1.1 200"), head
    assert "Content-Type: text/plain; version=0.0.4; charset=utf-8" in head, head
    out = {}
    for family in parser.text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name, **labels):
    """Sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def wait_until(predicate, what, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = predicate()
        if got:
            return got
        time.sleep(0.05)
    pytest.fail("timed out waiting for " + what)


def test_requests_are_counted_by_method_and_status(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path)
    before = scrape(server)
    for _ in range(10):
        assert server.get("/").status == 200
    for _ in range(3):
        assert server.request("POST", "/404", body=b"x").status == 404
    assert server.request("DELETE", "/503").status == 503
    assert server.request("BREW", "/").status in (200, 400, 501)  # an extension method: "other"
    after = wait_until(lambda: (lambda s: s if total(s, "gthreadd_requests_total")
                                >= total(before, "gthreadd_requests_total") + 15
                                else None)(scrape(server)), "the 15 requests to be counted")

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("gthreadd_requests_total", method="GET", status="2xx") == 10
    assert delta("gthreadd_requests_total", method="POST", status="4xx") == 3
    assert delta("gthreadd_requests_total", method="DELETE", status="5xx") == 1
    requests = total(after, "gthreadd_requests_total") - total(before, "gthreadd_requests_total")
    assert requests == 15
    count = delta("gthreadd_request_duration_seconds_count")
    assert count == value(after, "gthreadd_request_duration_seconds_bucket", le="+Inf") - \
        value(before, "gthreadd_request_duration_seconds_bucket", le="+Inf")
    assert count >= 14  # every request the app answered
    assert delta("gthreadd_request_duration_seconds_sum") > 0
    assert value(after, "gthreadd_worker_starts_total") == 2
    assert value(after, "gthreadd_workers") == 2
    # A worker's threads count from its loop's start, after the app is imported: the second
    # worker may still be importing when the first one serves (the start-up probe).
    wait_until(lambda: value(scrape(server), "gthreadd_idle_threads") == 4, "4 idle threads")
    assert delta("gthreadd_gil_wait_seconds_count") >= 14
    rss = [v for (n, ls), v in after.items() if n == "gthreadd_worker_resident_memory_bytes"]
    assert len(rss) == 2 and all(v > 1 << 20 for v in rss), rss
    assert total(after, "gthreadd_listen_backlog") == 0
    assert total(after, "gthreadd_listen_backlog_limit") > 0


def test_answers_without_the_app_are_counted(make_server, tmp_path):
    """A 400 the worker writes itself (the app never sees the request) is a request too."""
    server = metrics_server(make_server, tmp_path, workers=1)
    before = scrape(server)
    with server.connect() as c:
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n")
        assert c.read_response().status == 400
    after = wait_until(lambda: (lambda s: s if total(s, "gthreadd_requests_total", status="4xx")
                                > total(before, "gthreadd_requests_total", status="4xx")
                                else None)(scrape(server)), "the 400 to be counted")
    assert value(after, "gthreadd_requests_total", method="GET", status="4xx") - \
        value(before, "gthreadd_requests_total", method="GET", status="4xx") == 1
    assert total(after, "gthreadd_requests_total", status="2xx") == \
        total(before, "gthreadd_requests_total", status="2xx")


def test_running_and_waiting_requests_show_in_the_gauges(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path, workers=1, threads=2)
    gate = str(tmp_path / "gate")
    conns = []
    try:
        for _ in range(3):  # two run, the third waits for a thread
            c = server.connect()
            c.send(build_request("GET", "/hold?" + gate, [("Connection", "close")]))
            conns.append(c)
        # The connection gauges are sampled by the worker's loop 5 times a second: wait for them.
        s = wait_until(lambda: (lambda s: s if value(s, "gthreadd_busy_threads") == 2
                                and value(s, "gthreadd_requests_waiting") == 1
                                and value(s, "gthreadd_open_connections") >= 3 else None)(scrape(server)),
                       "two busy threads, one waiting request, three open connections")
        assert value(s, "gthreadd_requests_in_flight") == 3
        assert value(s, "gthreadd_idle_threads") == 0
    finally:
        open(gate, "w").close()
        for c in conns:
            c.read_response()
            c.close()
    s = wait_until(lambda: (lambda s: s if value(s, "gthreadd_busy_threads") == 0
                            and value(s, "gthreadd_open_connections") == 0 else None)(scrape(server)),
                   "the gauges to go back to zero")
    assert value(s, "gthreadd_requests_in_flight") == 0
    assert value(s, "gthreadd_idle_threads") == 2


def test_idle_keepalive_connections_are_counted(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path, workers=1, threads=1, args=["--keep-alive", "30"])
    with server.connect() as c:
        c.send(build_request("GET", "/"))
        assert c.read_response().status == 200
        s = wait_until(lambda: (lambda s: s if value(s, "gthreadd_idle_keepalive_connections") == 1
                                else None)(scrape(server)), "one idle keep-alive connection")
        assert value(s, "gthreadd_open_connections") == 1


def test_a_dead_workers_counts_are_kept_and_its_exit_counted(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path, workers=1, threads=1)
    for _ in range(5):
        assert server.get("/").status == 200
    # The probe and the 5, all counted before the kill (see metrics_server).
    before = wait_until(lambda: (lambda s: s if value(s, "gthreadd_requests_total", method="GET",
                                                      status="2xx") == 6 else None)(scrape(server)),
                        "the 5 requests to be counted")
    victim = server.worker_pids()[-1]
    os.kill(victim, signal.SIGKILL)
    server.wait_for_log(r"Booting worker with pid: (?!%d\b)\d+" % victim, DEADLINE)
    after = wait_until(lambda: (lambda s: s if value(s, "gthreadd_worker_starts_total") == 2
                                and value(s, "gthreadd_workers") == 1 else None)(scrape(server)),
                       "the replacement worker")
    assert value(after, "gthreadd_worker_exits_total", reason="crash") == 1
    assert value(after, "gthreadd_requests_total", method="GET", status="2xx") == \
        value(before, "gthreadd_requests_total", method="GET", status="2xx")
    assert value(after, "gthreadd_request_duration_seconds_count") == \
        value(before, "gthreadd_request_duration_seconds_count")


def test_max_requests_exits_are_counted_as_such(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path, workers=1, threads=1, args=["--max-requests", "3"])
    for _ in range(4):
        assert server.get("/").status == 200
    s = wait_until(lambda: (lambda s: s if value(s, "gthreadd_worker_exits_total", reason="max_requests") >= 1
                            else None)(scrape(server)), "a max_requests exit")
    assert value(s, "gthreadd_worker_exits_total", reason="crash") == 0


def test_only_get_and_head_of_metrics_are_served(make_server, tmp_path):
    server = metrics_server(make_server, tmp_path, workers=1)
    assert http_get(server.metrics_port, "/")[0].startswith("HTTP/1.1 404")
    head, _ = http_get(server.metrics_port, "/metrics", "POST")
    assert head.startswith("HTTP/1.1 405") and "Allow: GET, HEAD" in head, head
    head, body = http_get(server.metrics_port, "/metrics", "HEAD")
    assert head.startswith("HTTP/1.1 200") and body == "", (head, body)


def test_metrics_are_off_by_default(make_server):
    server = make_server("metrics_gate:app")
    assert server.get("/").status == 200
    assert "Metrics endpoint" not in server.log


def test_a_bad_metrics_address_is_refused(tmp_path):
    from conftest import BIN
    proc = subprocess.run([BIN, "--metrics-bind", "127.0.0.1:notaport", "metrics_gate:app"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    assert "metrics-bind" in proc.stderr and "127.0.0.1:notaport" in proc.stderr, proc.stderr


def test_enable_backlog_metric_sends_gunicorns_backlog_gauge(make_server):
    from ops_util import UdpListener
    udp = UdpListener()
    try:
        server = make_server("metrics_gate:app", threads=1,
                             args=["--statsd-host", "127.0.0.1:%d" % udp.port, "--enable-backlog-metric",
                                   "--log-level", "debug"])
        got = udp.collect_until(lambda r: any(m.startswith("gunicorn.backlog:") for m in r))
        assert any(re.fullmatch(r"gunicorn\.backlog:\d+(\.\d+)?\|ms", m) for m in got), got
        server.wait_for_log(r"socket backlog: \d+", DEADLINE)
    finally:
        udp.close()


def test_without_the_flag_no_backlog_is_sent(make_server):
    from ops_util import UdpListener
    udp = UdpListener()
    try:
        make_server("metrics_gate:app", args=["--statsd-host", "127.0.0.1:%d" % udp.port])
        got = udp.collect_until(lambda r: sum(m.startswith("gunicorn.workers:") for m in r) >= 3)
        assert not any(m.startswith("gunicorn.backlog") for m in got), got
    finally:
        udp.close()


# --------------------------------------------------------------------------------------
# A real Prometheus scraping the endpoint
# --------------------------------------------------------------------------------------

PROMETHEUS = shutil.which("prometheus")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prom_query(port, query, at=None):
    params = {"query": query}
    if at is not None:
        params["time"] = "%.3f" % at  # the evaluation time, so two queries see the same window
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    assert data["status"] == "success", data
    return data["data"]["result"]


def prom_value(port, query, at=None):
    result = prom_query(port, query, at)
    return float(result[0]["value"][1]) if result else None


@pytest.fixture
def prometheus(tmp_path):
    if PROMETHEUS is None:
        pytest.skip("Debian's prometheus is not installed (apt-get install prometheus)")
    procs = []

    def start(target_port):
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: gthreadd\n    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n" % target_port)
        proc = subprocess.Popen(
            [PROMETHEUS, "--config.file", str(config), "--storage.tsdb.path", str(tmp_path / "tsdb"),
             "--web.listen-address", "127.0.0.1:%d" % port, "--log.level", "warn"],
            stdin=subprocess.DEVNULL, stdout=open(tmp_path / "prometheus.log", "wb"),
            stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)

        def ready():
            if proc.poll() is not None:
                pytest.fail("prometheus exited: " + (tmp_path / "prometheus.log").read_text())
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until(ready, "prometheus to be ready", 60)
        return port

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_prometheus_scrapes_the_endpoint_and_sees_the_request_rate(make_server, tmp_path, prometheus):
    server = metrics_server(make_server, tmp_path)
    port = prometheus(server.metrics_port)
    query = 'sum(gthreadd_requests_total{method="GET",status="2xx"})'
    wait_until(lambda: prom_value(port, 'up{job="gthreadd"}') == 1.0, "prometheus to scrape gthreadd")
    wait_until(lambda: prom_value(port, query) is not None, "the request series in prometheus")
    before = prom_value(port, query)
    time.sleep(3)  # a flat stretch before the burst, so increase() has a clean start
    n = 60
    for _ in range(n):
        assert server.get("/").status == 200
    wait_until(lambda: prom_value(port, query) == before + n, "prometheus to see all %d requests" % n)
    time.sleep(3)  # and a flat stretch after it
    at = time.time()
    increase = prom_value(port, 'sum(increase(gthreadd_requests_total{method="GET",status="2xx"}[30s]))',
                          at)
    # increase() extrapolates to the window's edges (by at most one scrape interval's worth
    # of the average rate on each side), never below what happened.
    assert n <= increase <= n * 1.2, increase
    rate = prom_value(port, 'sum(rate(gthreadd_requests_total{method="GET",status="2xx"}[30s]))', at)
    assert abs(rate * 30 - increase) < 1e-6 * n, (rate, increase)
    buckets = prom_query(port, 'gthreadd_request_duration_seconds_bucket{le="+Inf"}')
    assert buckets and float(buckets[0]["value"][1]) >= before + n
