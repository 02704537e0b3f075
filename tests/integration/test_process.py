"""The process model a user sees: respawn after a crash, exit codes and messages for start-up
errors, clean shutdown on SIGTERM."""
import os
import signal

import pytest

from conftest import BOOT_RE, IS_GUNICORN


def test_killed_worker_is_respawned(make_server):
    server = make_server("hello:app", workers=2)
    before = server.worker_pids()
    assert len(before) == 2
    victim = before[0]
    os.kill(victim, signal.SIGKILL)  # a worker this test's server forked, by pid
    server.wait_for_log(BOOT_RE, 30, count=3)
    after = server.worker_pids()
    assert after[2] not in before
    # The new worker serves: with the victim gone, every request lands on a live worker.
    for _ in range(10):
        assert server.get("/").body == b"Hello, World!"
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)


def test_sigterm_stops_master_and_workers_with_exit_code_0(make_server):
    server = make_server("hello:app", workers=2)
    workers = server.worker_pids()
    os.kill(server.master_pid, signal.SIGTERM)
    assert server.wait_exit(30) == 0
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.strict  # gunicorn 20.1 exits 3 ("Worker failed to boot") for an ImportError
def test_unknown_module_exits_4_naming_the_module(make_server):
    server = make_server("no_such_module_xyz:app", start=False)
    assert server.wait_exit(30) == 4, server.log
    assert "no_such_module_xyz" in server.log


def test_unknown_attribute_exits_4_naming_it(make_server):
    server = make_server("hello:no_such_attribute", start=False)
    assert server.wait_exit(30) == 4, server.log
    assert "no_such_attribute" in server.log


def test_unknown_flag_fails_with_a_message(make_server):
    server = make_server("hello:app", args=["--no-such-flag"], start=False)
    assert server.wait_exit(30) != 0
    assert "no-such-flag" in server.log


def test_bad_flag_value_fails_naming_the_setting(make_server):
    server = make_server("hello:app", args=["--workers", "many"], start=False)
    assert server.wait_exit(30) != 0
    assert "many" in server.log or "workers" in server.log, server.log


def test_unknown_worker_class_fails_with_a_clear_message(make_server):
    server = make_server("hello:app", args=["-k", "eventlet"], start=False)
    assert server.wait_exit(30) != 0
    assert "eventlet" in server.log, server.log
    if not IS_GUNICORN:
        assert "gthread" in server.log, "the message should say what is supported"


def test_version_flag(make_server):
    server = make_server(None, args=["--version"], start=False)
    assert server.wait_exit(30) == 0
    assert ("gunicorn" if IS_GUNICORN else "gthreadd") in server.log.lower()
