"""--access-logfile / --access-logformat: one line per request, gunicorn's atoms and default
format byte for byte."""
import os
import re

from conftest import IS_GUNICORN, build_request
from ops_util import wait_lines

DEFAULT_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
    r'"GET /hello\?x=1&y=%41 HTTP/1\.1" 200 13 "http://example\.test/from" "probe/1\.0"$')


def ready_lines(path):
    """The /__ready__ probe of the fixture is logged too; tests look at their own lines."""
    return [line for line in open(path).read().splitlines() if "__ready__" not in line]


def test_default_format_is_gunicorns(make_server, tmp_path):
    log = str(tmp_path / "access.log")
    server = make_server("hello:app", args=["--access-logfile", log])
    r = server.request("GET", "/hello?x=1&y=%41", [("Referer", "http://example.test/from"),
                                                  ("User-Agent", "probe/1.0")])
    assert r.status == 200
    lines = wait_lines(log, 2)  # the readiness probe, then ours
    assert DEFAULT_LINE.match(lines[-1]), lines


def test_custom_format_with_every_kind_of_atom(make_server, tmp_path):
    log = str(tmp_path / "custom.log")
    fmt = ('%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|%({x-request-id}i)s|'
           '%({content-type}o)s|%({wsgi.url_scheme}e)s|%({REQUEST_METHOD}e)s|%(p)s|%(D)s|%(L)s')
    server = make_server("hello:app", args=["--access-logfile", log, "--access-logformat", fmt])
    r = server.request("GET", "/a%20b?q=1", [("X-Request-Id", "abc-123")])
    assert r.status == 200
    r = server.request("HEAD", "/head")
    assert r.status == 200
    lines = wait_lines(log, 3)[1:]
    first = lines[0].split("|")
    assert first[:11] == ["GET", "/a b", "q=1", "HTTP/1.1", "200", "13", "13", "abc-123",
                          "text/plain", "http", "GET"], lines
    assert re.fullmatch(r"<\d+>", first[11]), first  # %(p)s is "<pid>" in gunicorn
    assert int(first[12]) >= 0 and float(first[13]) >= 0
    head = lines[1].split("|")
    # No body goes out on HEAD: %(B)s is 0 and %(b)s "0" (gunicorn prints resp.sent).
    assert head[:8] == ["HEAD", "/head", "", "HTTP/1.1", "200", "0", "0", "-"], lines


def test_one_line_per_request_over_keep_alive(make_server, tmp_path):
    log = str(tmp_path / "access.log")
    server = make_server("hello:app", args=["--access-logfile", log,
                                            "--access-logformat", "%(r)s %(s)s"])
    with server.connect() as c:
        for i in range(5):
            c.send(build_request("GET", "/n%d" % i))
            assert c.read_response().status == 200
    lines = wait_lines(log, 6)
    assert lines[1:] == ["GET /n%d HTTP/1.1 200" % i for i in range(5)]


def test_dash_writes_to_stdout(make_server):
    server = make_server("hello:app", args=["--access-logfile", "-",
                                            "--access-logformat", "ACCESS %(m)s %(U)s %(s)s"])
    server.request("GET", "/to-stdout")
    server.wait_for_log(r"^ACCESS GET /to-stdout 200$", 10)


def test_no_access_log_by_default(make_server, tmp_path):
    server = make_server("hello:app")
    server.request("GET", "/quiet")
    assert "/quiet" not in server.log


def test_bad_format_fails_at_start(make_server, tmp_path):
    if IS_GUNICORN:
        return
    server = make_server("hello:app", args=["--access-logfile", str(tmp_path / "a.log"),
                                            "--access-logformat", "%(h"], start=False)
    code = server.wait_exit(20)
    assert code != 0
    assert "access" in server.log.lower() or "format" in server.log.lower(), server.log
