"""--threads: concurrent app calls in one worker, and a Python thread state that lives as
long as its pool thread."""
import threading
import time

from conftest import build_request


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
