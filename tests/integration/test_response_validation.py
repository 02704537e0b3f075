"""The app cannot break the wire: a response that breaks the rules becomes a 500 before a
byte is sent (never a header injection); a body shorter than its Content-Length or an
exception after the headers went out closes the connection; a longer body is truncated."""
import pytest

from conftest import ConnectionClosed, build_request, module_server

bad = module_server("bad_response:app")

INVALID = ["/bad-status", "/status-ctl", "/status-crlf", "/no-reason", "/header-crlf",
           "/header-lf", "/header-nul", "/header-name", "/header-nonlatin", "/dup-cl",
           "/bad-cl", "/str-body"]


@pytest.mark.strict  # gunicorn 20.1 lets several of these through
@pytest.mark.parametrize("path", INVALID)
def test_invalid_response_becomes_500(bad, path):
    with bad.connect() as c:
        c.send(build_request("GET", path))
        resp = c.read_response()
        assert resp.status == 500, resp
        assert b"injected" not in resp.raw_head.lower()
        assert resp.header("X-Injected") is None and resp.header("Set-Cookie") is None
        # The connection is either closed or still speaks correct HTTP.
        try:
            c.send(build_request("GET", "/ok"))
            after = c.read_response()
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            after = None
        if after is not None:
            assert after.status == 200 and after.body == b"ok"
    assert bad.get("/ok").body == b"ok"


def test_short_body_closes_the_connection(bad):
    with bad.connect(timeout=5) as c:
        c.send(build_request("GET", "/short-body"))
        with pytest.raises(ConnectionClosed):
            resp = c.read_response()
            assert resp.status == 500, "a short body must not look complete: %r" % resp
            raise ConnectionClosed("500 is acceptable too")
    assert bad.get("/ok").body == b"ok"


@pytest.mark.strict  # gunicorn 20.1 sends the extra bytes onto the wire
def test_long_body_is_truncated_at_content_length(bad):
    with bad.connect() as c:
        c.send(build_request("GET", "/long-body"))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"12345"
        try:
            c.send(build_request("GET", "/ok"))
            after = c.read_response()
        except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
            after = None
        if after is not None:  # the extra bytes must not show up as a bogus response
            assert after.status == 200 and after.body == b"ok"


def test_exception_after_first_chunk_closes_the_connection(bad):
    with bad.connect(timeout=5) as c:
        c.send(build_request("GET", "/raise-after"))
        try:
            resp = c.read_response()
        except ConnectionClosed:
            resp = None  # headers and part of the body went out, then the close
        if resp is not None:
            assert resp.status == 500, "an incomplete body must not look complete: %r" % resp
    assert bad.get("/ok").body == b"ok"
