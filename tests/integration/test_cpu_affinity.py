"""--cpu-affinity: every thread of worker N runs on the Nth CPU of the list, and a
replacement worker takes the CPU its predecessor left (issue 4)."""
import os
import signal

import pytest

from conftest import build_request, gthreadd_only
from proc_util import alive, wait_until

pytestmark = gthreadd_only("--cpu-affinity")

CPUS = sorted(os.sched_getaffinity(0))


def thread_cpus(pid):
    """{thread id: the CPUs it may run on} for every thread of `pid`."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        out[int(tid)] = frozenset(os.sched_getaffinity(int(tid)))
    return out


def worker_cpu(pid):
    """The one CPU all of the worker's threads are pinned to (fails if they differ)."""
    cpus = set(thread_cpus(pid).values())
    assert len(cpus) == 1, "threads of worker %d have different CPU sets: %r" % (pid, cpus)
    (only,) = cpus
    assert len(only) == 1, "worker %d is not pinned: %r" % (pid, sorted(only))
    return next(iter(only))


def get_ok(server):
    with server.connect() as c:
        c.send(build_request("GET", "/", [("Connection", "close")]))
        assert c.read_response().status == 200


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two usable CPUs")
def test_each_worker_runs_on_its_own_cpu_and_a_replacement_takes_the_freed_one(make_server):
    first, second = CPUS[0], CPUS[1]
    server = make_server("hello:app", workers=2, threads=3,
                         args=["--cpu-affinity", "%d,%d" % (first, second)])
    get_ok(server)
    workers = server.worker_pids()
    assert sorted(worker_cpu(pid) for pid in workers) == [first, second]
    assert len(os.sched_getaffinity(server.master_pid)) == len(CPUS)  # the master: unpinned

    victim = next(pid for pid in workers if worker_cpu(pid) == second)
    os.kill(victim, signal.SIGKILL)
    replacement = wait_until(
        lambda: [p for p in server.worker_pids() if p not in workers and alive(p)],
        "a replacement worker", 30)[0]
    server.wait_for_log(r"Worker %d pinned to CPU %d" % (replacement, second), 30)
    assert worker_cpu(replacement) == second
    get_ok(server)


def test_a_cpu_the_machine_lacks_is_a_warning_and_the_worker_still_serves(make_server):
    server = make_server("hello:app", args=["--cpu-affinity", "1023"])
    server.wait_for_log(r"cannot pin to CPU 1023: not a CPU this process may use; the worker runs unpinned", 30)
    get_ok(server)
