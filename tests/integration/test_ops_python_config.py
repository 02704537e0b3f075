"""gunicorn.conf.py: settings from module-level names, server hooks with gunicorn's
signatures, ./gunicorn.conf.py found without -c, bad values and unknown names reported."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import APPS, BIN, IS_GUNICORN
from ops_util import wait_lines

pytestmark = pytest.mark.skipif(IS_GUNICORN, reason="gthreadd's own messages are checked")

OPS = os.path.join(APPS, "ops")


def hook_calls(path):
    return [line.split() for line in open(path).read().splitlines()] if os.path.exists(path) else []


def test_hooks_run_with_gunicorns_signatures(make_server, tmp_path):
    hook_log = str(tmp_path / "hooks.log")
    server = make_server("ops.hooks_app:app", args=["-c", os.path.join(OPS, "hooks.conf.py")],
                         env={"HOOK_LOG": hook_log})
    r = server.get("/path?q=1")
    assert r.status == 200
    seen = r.json()
    worker_pid = seen["pid"]
    assert seen["x_hook"] == "added by pre_request"     # pre_request's header reached environ
    assert seen["post_fork"] == str(worker_pid)          # post_fork ran in this worker
    assert seen["from_conf"] == "yes"                    # raw_env from the file
    server.wait_for_log(r"post_fork hook ran in %d" % worker_pid, 10)
    server.wait_for_log(r"Exception in when_ready hook", 10)  # logged; the server went on
    server.wait_for_log(r"RuntimeError: when_ready failed on purpose", 10)
    server.wait_for_log(r"unknown setting\(s\) ignored: not_a_setting", 10)
    wait_lines(hook_log, 7)
    server.stop()

    calls = hook_calls(hook_log)
    names = [c[0] for c in calls]
    assert calls[0] == ["on_starting", "20", "1"], calls
    assert names.index("on_starting") < names.index("when_ready") < names.index("pre_fork") \
        < names.index("post_fork") < names.index("post_worker_init"), calls
    assert ["post_fork", str(worker_pid), "1"] in calls
    assert ["post_worker_init", str(worker_pid)] in calls
    assert ["pre_request", "GET", "/path", "q=1"] in calls
    assert ["post_request", "/path", "200", "OK", "GET"] in calls
    assert ["worker_exit", str(worker_pid)] in calls
    assert ["child_exit", str(worker_pid)] in calls or "on_exit" in names
    assert names[-1] == "on_exit", calls


def run_cli(args, cwd, timeout=30):
    return subprocess.run([BIN] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def test_gunicorn_conf_py_in_cwd_is_read_without_c(tmp_path):
    (tmp_path / "gunicorn.conf.py").write_text(
        "workers = 3\nbind = ['127.0.0.1:9001', 'unix:/tmp/x.sock']\nkeepalive = 7\n"
        "secure_scheme_headers = {'X-SCHEME': 'https'}\npreload_app = True\n")
    out = run_cli(["--print-config"], cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "workers" in text and " = 3\n" in text.split("workers", 1)[1][:40]
    assert "keepalive" in text and " = 7\n" in text.split("keepalive", 1)[1][:40]
    assert "127.0.0.1:9001" in text and "unix:/tmp/x.sock" in text
    assert "X-SCHEME" in text


def test_command_line_overrides_the_file(tmp_path):
    conf = tmp_path / "site.conf.py"
    conf.write_text("workers = 3\n")
    out = run_cli(["-c", str(conf), "-w", "5", "--print-config"], cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert " = 5\n" in out.stdout.split("workers", 1)[1][:40]


def test_bad_value_names_the_file_and_setting(tmp_path):
    conf = tmp_path / "bad.conf.py"
    conf.write_text("workers = 'many'\n")
    out = run_cli(["-c", str(conf), "hello:app"], cwd=str(tmp_path))
    assert out.returncode != 0
    assert "bad.conf.py" in out.stderr and "workers" in out.stderr and "many" in out.stderr, out.stderr


def test_file_that_raises_is_reported_with_its_error(tmp_path):
    conf = tmp_path / "broken.conf.py"
    conf.write_text("workers = 2\nraise ValueError('broken config')\n")
    out = run_cli(["-c", str(conf), "hello:app"], cwd=str(tmp_path))
    assert out.returncode != 0
    assert "broken.conf.py" in out.stderr and "broken config" in out.stderr, out.stderr


def test_check_config_with_a_py_file(tmp_path):
    conf = tmp_path / "ok.conf.py"
    conf.write_text("wsgi_app = 'hello:app'\n")
    out = run_cli(["-c", str(conf), "--check-config", "--chdir", APPS], cwd=str(tmp_path))
    assert out.returncode == 0, out.stderr + out.stdout
