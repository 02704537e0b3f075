"""Size limits (gunicorn's --limit-request-* flags and --limit-request-body): over the
limit is rejected with its status before the app runs; under it is served."""
import pytest

from conftest import IS_GUNICORN, assert_rejected, build_request, counter_module_server

pytestmark = pytest.mark.strict  # gunicorn 20.1 answers 400 where RFC 9110 has 414/431/413

limited_shared, limited = counter_module_server(
    "limited", ["--limit-request-line", "100", "--limit-request-fields", "5"])
# gunicorn spells this one with an underscore; a drop-in replacement must accept it.
field_size_limited_shared, field_size_limited = counter_module_server(
    "field_size_limited", ["--limit-request-field_size", "100"])
body_limited_shared, body_limited = counter_module_server(
    "body_limited", [] if IS_GUNICORN else ["--limit-request-body", "100"])


def fields(n, size=10):
    return [("X-Field-%d" % i, "v" * size) for i in range(n)]


def served(server, raw):
    with server.connect() as c:
        c.send(raw)
        return c.read_response()


def test_default_request_line_limit_is_414(counter):
    # 8190 bytes by default (RFC 9112 section 3 recommends at least 8000), CRLF not counted
    # (gunicorn's read_line compares the line before its CRLF).
    line_at_limit = "/" + "a" * (8190 - len("GET  HTTP/1.1") - 1)
    assert served(counter, build_request("GET", line_at_limit, [("Connection", "close")])).status == 200
    assert_rejected(counter, build_request("GET", line_at_limit + "a"), 414)


def test_default_field_count_limit_is_431(counter):
    assert_rejected(counter, build_request("GET", "/", fields(120)), 431)


def test_default_field_size_limit_is_431(counter):
    assert_rejected(counter, build_request("GET", "/", [("X-Big", "a" * 9000)]), 431)


def test_custom_request_line_limit(limited):
    assert served(limited, build_request("GET", "/" + "a" * 40)).status == 200
    assert_rejected(limited, build_request("GET", "/" + "a" * 200), 414)


def test_custom_field_count_limit(limited):
    assert served(limited, build_request("GET", "/", fields(2))).status == 200
    assert_rejected(limited, build_request("GET", "/", fields(20)), 431)


def test_custom_field_size_limit(field_size_limited):
    server = field_size_limited
    assert served(server, build_request("GET", "/", [("X-Small", "a" * 30)])).status == 200
    assert_rejected(server, build_request("GET", "/", [("X-Big", "a" * 300)]), 431)


def test_field_size_counts_the_line_with_its_crlf_as_gunicorn(field_size_limited):
    # gunicorn (message.py parse_headers): len(line) + len("\r\n") > limit_request_field_size.
    # "X-Edge: " + 90 bytes is a 98-byte line, 100 with its CRLF: allowed; one more is not.
    server = field_size_limited
    edge = [("X-Edge", "v" * 90), ("Connection", "close")]
    assert served(server, build_request("GET", "/", edge)).status == 200
    assert_rejected(server, build_request("GET", "/", [("X-Edge", "v" * 91)]), 431)


@pytest.mark.skipif(IS_GUNICORN, reason="gunicorn 20.1 has no --limit-request-body option")
def test_body_limit_with_content_length_is_413(body_limited):
    resp = served(body_limited, build_request("POST", "/", body=b"x" * 50))
    assert resp.status == 200 and resp.body == b"POST / body=50"
    assert_rejected(body_limited, build_request("POST", "/", body=b"x" * 200), 413)


@pytest.mark.skipif(IS_GUNICORN, reason="gunicorn 20.1 has no --limit-request-body option")
def test_body_limit_with_chunked_body_is_413(body_limited):
    def chunked(n):
        return build_request("POST", "/", [("Transfer-Encoding", "chunked")],
                             b"".join(b"a\r\n" + b"x" * 10 + b"\r\n" for _ in range(n)) +
                             b"0\r\n\r\n")
    resp = served(body_limited, chunked(5))
    assert resp.status == 200 and resp.body == b"POST / body=50"
    assert_rejected(body_limited, chunked(20), 413)
