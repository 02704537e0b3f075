"""The basics a user sees first: hello world, keep-alive, pipelining, HEAD/204/304,
response framing, file_wrapper, a large body, app errors, and the standard headers."""
import importlib.util
import os
import socket
import subprocess

import pytest

from conftest import APPS, IS_GUNICORN, Conn, build_request, module_server

hello = module_server("hello:app", threads=2)
chunked = module_server("chunked:app")
status_app = module_server("status:app")


def _load_app_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(APPS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hello_world(hello):
    resp = hello.get("/")
    assert resp.status == 200
    assert resp.version == "HTTP/1.1"
    assert resp.body == b"Hello, World!"
    assert resp.header("Content-Length") == "13"


def test_date_and_server_headers_on_every_response(hello):
    resp = hello.get("/")
    assert resp.header("Date", "").endswith(" GMT"), resp.headers
    assert resp.header("Server"), resp.headers


def test_keep_alive_reuses_the_connection(hello):
    with hello.connect() as c:
        for _ in range(3):
            c.send(build_request("GET", "/"))
            resp = c.read_response()
            assert resp.status == 200 and resp.body == b"Hello, World!"
            assert (resp.header("Connection") or "").lower() != "close"


def test_http10_closes_by_default_and_keeps_alive_on_request(hello):
    with hello.connect() as c:
        c.send(build_request("GET", "/", version="HTTP/1.0", host=None))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"Hello, World!"
        assert c.read_until_close(timeout=5) == b""
    with hello.connect() as c:
        for _ in range(2):
            c.send(build_request("GET", "/", [("Connection", "keep-alive")],
                                 version="HTTP/1.0", host=None))
            resp = c.read_response()
            assert resp.status == 200 and resp.body == b"Hello, World!"


@pytest.mark.strict  # gunicorn 20.1's gthread worker drops requests pipelined behind the first
def test_three_pipelined_requests_in_one_write(hello):
    with hello.connect() as c:
        c.send(build_request("GET", "/a") + build_request("GET", "/b") +
               build_request("GET", "/c", [("Connection", "close")]))
        for _ in range(3):
            resp = c.read_response()
            assert resp.status == 200 and resp.body == b"Hello, World!"
        assert c.read_until_close(timeout=5) == b""


def test_unix_socket(make_server):
    server = make_server("hello:app", unix=True)
    resp = server.get("/")
    assert resp.status == 200 and resp.body == b"Hello, World!"


@pytest.mark.strict  # gunicorn 20.1 sends the app's body after a HEAD response
def test_head_has_headers_but_no_body(status_app):
    with status_app.connect() as c:
        c.send(build_request("HEAD", "/head"))
        head = c.read_response("HEAD")
        assert head.status == 200
        assert head.header("Content-Length") == "13"
        # The next response must follow immediately: a body after HEAD would corrupt it.
        c.send(build_request("GET", "/head"))
        get = c.read_response()
        assert get.status == 200 and get.body == b"Hello, World!"


@pytest.mark.strict  # gunicorn 20.1 sends the app's body after 204 and 304
@pytest.mark.parametrize("code", [204, 304])
def test_no_body_for_204_and_304(status_app, code):
    with status_app.connect() as c:
        c.send(build_request("GET", "/%d" % code))
        resp = c.read_response()
        assert resp.status == code
        assert resp.header("Transfer-Encoding") is None
        c.send(build_request("GET", "/head"))
        nxt = c.read_response()
        assert nxt.status == 200 and nxt.body == b"Hello, World!"


def test_unsized_body_is_chunked_on_http11(chunked):
    with chunked.connect() as c:
        for _ in range(2):
            c.send(build_request("GET", "/"))
            resp = c.read_response()
            assert resp.status == 200
            assert resp.header("Transfer-Encoding", "").lower() == "chunked"
            assert resp.header("Content-Length") is None
            assert resp.body == b"".join(b"part%d\n" % i for i in range(10))


def test_unsized_body_is_close_delimited_on_http10(chunked):
    with chunked.connect() as c:
        c.send(build_request("GET", "/", version="HTTP/1.0", host=None))
        resp = c.read_response()
        assert resp.status == 200
        assert resp.header("Transfer-Encoding") is None
        assert resp.body == b"".join(b"part%d\n" % i for i in range(10))
        assert c.eof


def test_file_wrapper_serves_the_whole_file(make_server):
    server = make_server("file_wrapper:app")
    expected = _load_app_module("file_wrapper").expected_bytes()
    with server.connect() as c:
        for _ in range(2):
            c.send(build_request("GET", "/"))
            resp = c.read_response()
            assert resp.status == 200
            assert resp.body == expected


def test_8_mib_response(make_server):
    server = make_server("big:app")
    big = _load_app_module("big")
    with server.connect(timeout=30) as c:
        for _ in range(2):
            c.send(build_request("GET", "/"))
            resp = c.read_response()
            assert resp.status == 200
            assert len(resp.body) == big.SIZE
            assert resp.body == b"".join(big.piece(i) for i in range(big.COUNT))


def test_app_exception_gives_500_and_the_worker_keeps_serving(make_server):
    server = make_server("error:app")
    with server.connect() as c:
        c.send(build_request("GET", "/raise"))
        resp = c.read_response()
        assert resp.status == 500
    assert server.get("/fine").body == b"ok"
    server.wait_for_log("AppFailure", 5)  # logged with its traceback
    assert server.get("/fine").status == 200


def _imported_at_interpreter_start(executable, env, names):
    """Which of `names` a bare start of `executable` has imported: site and the .pth files
    of the installed packages (a Debian *-nspkg.pth imports importlib), before any code of
    ours runs."""
    code = "import sys; print(' '.join(m for m in %r if m in sys.modules))" % (tuple(names),)
    out = subprocess.run([executable, "-c", code], env=env, stdout=subprocess.PIPE,
                         check=True, timeout=60).stdout
    return set(out.decode().split())


@pytest.mark.skipif(IS_GUNICORN, reason="gunicorn imports traceback at start-up")
def test_traceback_module_is_imported_at_the_first_error_only(make_server):
    # Memory: traceback pulls in linecache, tokenize, re, enum and textwrap (~1.6 MiB of PSS
    # per worker); importlib is not needed to load the app either. The app drops whatever
    # the interpreter's start-up imported already, so /modules shows the server's imports
    # on any host (tests/apps/error.py).
    server = make_server("error:app")
    executable = server.get("/executable").body.decode()
    at_boot = set(server.get("/boot-modules").body.decode().split())
    at_start = _imported_at_interpreter_start(executable, server.env, ("importlib", "traceback"))
    assert at_boot <= at_start, "imported by the server before the app: %s" % (at_boot - at_start)
    assert server.get("/modules").body == b""
    assert server.request("GET", "/raise").status == 500
    server.wait_for_log(r"Traceback \(most recent call last\)", 30)
    server.wait_for_log("AppFailure: deliberate failure for the test suite", 30)
    assert server.get("/modules").body == b"traceback"


def test_flask_json_route(make_server):
    server = make_server("flask_app:app")
    resp = server.get("/api/items/42?q=x")
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/json"
    assert resp.json() == {"id": 42, "name": "item-42", "q": "x"}
    resp = server.request("POST", "/api/echo", [("Content-Type", "application/json")],
                          b'{"a": [1, 2]}')
    assert resp.status == 200 and resp.json() == {"received": {"a": [1, 2]}}


def test_package_module_alone_finds_application(make_server):
    server = make_server("pkg.wsgi")
    assert server.get("/").body == b"pkg.wsgi application"


def test_factory_with_literal_arguments(make_server):
    server = make_server("factory:create_app('hi', times=3)")
    assert server.get("/").body == b"hi hi hi"
