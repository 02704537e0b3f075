"""Pipelined requests (RFC 9112 section 9.3.2): served in order, an unread body skipped
exactly, nothing served after an error or after Connection: close."""
import pytest

from conftest import ConnectionClosed, build_request


@pytest.mark.strict  # gunicorn 20.1 gthread drops what is pipelined behind the first request
def test_pipelined_requests_with_bodies_are_answered_in_order(counter):
    with counter.connect() as c:
        c.send(build_request("POST", "/a", body=b"12345") +
               build_request("GET", "/b") +
               build_request("POST", "/c", [("Transfer-Encoding", "chunked")],
                             b"3\r\nabc\r\n0\r\n\r\n"))
        bodies = [c.read_response().body for _ in range(3)]
    assert bodies == [b"POST /a body=5", b"GET /b body=0", b"POST /c body=3"]
    assert counter.calls.calls(counter) == ["POST /a", "GET /b", "POST /c"]


@pytest.mark.strict  # gunicorn 20.1 gthread drops what is pipelined behind the first request
def test_valid_request_then_garbage_gets_200_then_one_400(counter):
    with counter.connect() as c:
        c.send(build_request("GET", "/first") + b"THIS IS NOT HTTP\r\n\r\n" +
               build_request("GET", "/after-garbage"))
        first = c.read_response()
        assert first.status == 200 and first.body == b"GET /first body=0"
        second = c.read_response()
        assert second.status == 400
        assert c.read_until_close(timeout=5) == b""
    assert counter.calls.calls(counter) == ["GET /first"]


@pytest.mark.strict
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_unread_body_is_skipped_before_the_next_request(counter, framing):
    # The body looks like a request: serving it would be request smuggling.
    hidden = build_request("GET", "/smuggled")
    if framing == "chunked":
        first = build_request("POST", "/noread", [("Transfer-Encoding", "chunked")],
                              b"%x\r\n%s\r\n0\r\n\r\n" % (len(hidden), hidden))
    else:
        first = build_request("POST", "/noread", body=hidden)
    with counter.connect() as c:
        c.send(first + build_request("GET", "/second"))
        a = c.read_response()
        assert a.status == 200 and a.body == b"POST /noread body=0"
        # The server may close instead of skipping; if it answers, it must be /second.
        try:
            b = c.read_response()
        except ConnectionClosed:
            b = None
        if b is not None:
            assert b.status == 200 and b.body == b"GET /second body=0"
    calls = counter.calls.calls(counter)
    assert "GET /smuggled" not in calls
    assert calls[0] == "POST /noread"


def test_nothing_is_served_after_connection_close(counter):
    with counter.connect() as c:
        c.send(build_request("GET", "/a", [("Connection", "close")]) +
               build_request("GET", "/b"))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"GET /a body=0"
        assert c.read_until_close(timeout=5) == b""
    assert counter.calls.calls(counter) == ["GET /a"]


def test_nothing_is_served_after_an_http10_request_without_keep_alive(counter):
    with counter.connect() as c:
        c.send(build_request("GET", "/a", version="HTTP/1.0", host=None) +
               build_request("GET", "/b", version="HTTP/1.0", host=None))
        resp = c.read_response()
        assert resp.status == 200 and resp.body == b"GET /a body=0"
        assert c.read_until_close(timeout=5) == b""
    assert counter.calls.calls(counter) == ["GET /a"]


def test_close_is_called_exactly_once_per_response(counter):
    with counter.connect() as c:
        c.send(build_request("GET", "/x"))
        c.read_response()
        c.send(build_request("HEAD", "/y"))
        c.read_response("HEAD")
    assert counter.calls.settled(counter) == ["GET /x", "close /x", "HEAD /y", "close /y"]
