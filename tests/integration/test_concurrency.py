"""--threads: concurrent app calls in one worker, and a Python thread state that lives as
long as its pool thread."""
import threading
import time

from conftest import build_request
from proc_util import wait_until


def test_four_sleeps_run_in_parallel_on_four_threads(make_server):
    server = make_server("sleep:app", workers=1, threads=4)
    conns = [server.connect() for _ in range(4)]
    results = [None] * 4
    try:
        start = time.monotonic()
        for c in conns:  # all four requests are in before any answer is read
            c.send(build_request("GET", "/", [("Connection", "close")]))

        def read(i):
            results[i] = conns[i].read_response()

        readers = [threading.Thread(target=read, args=(i,)) for i in range(4)]
        for t in readers:
            t.start()
        for t in readers:
            t.join(10)
        elapsed = time.monotonic() - start
    finally:
        for c in conns:
            c.close()
    assert all(r is not None and r.status == 200 for r in results), results
    # Serially they need 1.2 s; in parallel ~0.3 s. 1.0 s leaves room for a slow box.
    assert elapsed < 1.0, "four 300 ms calls took %.2fs: not parallel" % elapsed
    assert len({r.body for r in results}) == 4, "expected four distinct pool threads"


def test_threading_local_survives_between_requests(make_server):
    server = make_server("threadlocal:app", workers=1, threads=1)
    first = server.get("/").body.split()
    second = server.get("/").body.split()
    third = server.get("/").body.split()
    assert (first[0], second[0], third[0]) == (b"1", b"2", b"3")
    assert first[1] == second[1] == third[1]  # same thread, same threading.local


def pids_of_parallel_requests(server, n):
    """Sends one request on each of `n` new connections before reading any answer; returns
    the pids that answered, in connection order."""
    conns = [server.connect() for _ in range(n)]
    try:
        for c in conns:
            c.send(build_request("GET", "/"))
        return [c.read_response().body for c in conns]
    finally:
        for c in conns:
            c.close()


def test_a_burst_of_connections_is_spread_over_busy_workers(make_server):
    # Keep-alive connections stay with the worker that accepted them, so a burst of
    # connects (a load balancer's pool, wrk -c50) must be shared out when it arrives:
    # 16 clients at once against 2 workers x 1 thread, both busy after the first two.
    # Each worker must serve a fair part, and nobody waits long in the accept queue.
    server = make_server("slow_pid:app", workers=2, threads=1)
    # Both workers in their event loops first: one still importing the app at boot would
    # rightly leave the whole burst to its sibling.
    wait_until(lambda: len(set(pids_of_parallel_requests(server, 2))) == 2,
               "both workers answering", 60, interval=0)
    start = time.monotonic()
    pids = pids_of_parallel_requests(server, 16)
    elapsed = time.monotonic() - start
    counts = {pid: pids.count(pid) for pid in set(pids)}
    assert len(counts) == 2, "one worker served every connection: %r" % counts
    assert min(counts.values()) >= 4, "burst not shared out: %r" % counts
    # 16 x 100 ms on 2 threads is 0.8 s; serially 1.6 s. 5 s is for a very slow box.
    assert elapsed < 5.0, "16 requests took %.2fs" % elapsed


def test_a_request_behind_one_that_computes_then_sleeps_does_not_wait_for_it(make_server):
    # The pool lets a request wait for a thread that is computing rather than wake an idle
    # one (docs/architecture.md, "Waking pool threads"); once that thread sleeps, an idle
    # thread must take what waits. Two threads, one connection each.
    server = make_server("compute_then_sleep:app", workers=1, threads=2)
    slow, quick = server.connect(), server.connect()
    try:
        start = time.monotonic()
        slow.send(build_request("GET", "/work"))
        time.sleep(0.01)  # /work is computing (or about to) when /quick comes
        quick.send(build_request("GET", "/quick"))
        answer = quick.read_response()
        elapsed = time.monotonic() - start
        assert answer.status == 200 and answer.body == b"/quick"
        # /work ends after ~2.05 s; served by the idle thread, /quick ends well before.
        assert elapsed < 1.5, "/quick took %.2fs: it waited for /work" % elapsed
        assert slow.read_response().body == b"/work"
    finally:
        slow.close()
        quick.close()
