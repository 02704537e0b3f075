"""Request bodies as the app reads them through wsgi.input: Content-Length and chunked
framing, every read method, 100-continue. The echo app returns exactly what it read."""
import pytest

from conftest import build_request, module_server

echo = module_server("echo:app", threads=2)

BINARY = bytes(range(256)) * 40 + b"line one\nline two\r\nlast"   # every byte value


def chunked(body, size=1000):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\n\r\n"


def post(server, path, body, te_chunked=False, extra=()):
    headers = [("Content-Type", "application/octet-stream")] + list(extra)
    if te_chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        payload = chunked(body)
    else:
        payload = body
    resp = server.request("POST", path, headers, payload)
    assert resp.status == 200, resp
    return resp.json()


@pytest.mark.parametrize("te_chunked", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("path", ["/read", "/readn", "/readline", "/readline5", "/readlines",
                                  "/iter"])
def test_app_reads_the_exact_body(echo, path, te_chunked):
    got = post(echo, path, BINARY, te_chunked)
    assert got["body"].encode("latin-1") == BINARY
    assert got["method"] == "POST"


def test_content_length_reaches_environ(echo):
    got = post(echo, "/read", b"abc")
    assert got["content_length"] == "3"
    assert got["content_type"] == "application/octet-stream"


def test_readline_splits_on_newlines_only(echo):
    got = post(echo, "/readline", b"first\nsecond\r\nthird")
    assert got["parts"] == ["first\n", "second\r\n", "third"]


def test_readline_with_a_size_stops_at_the_size(echo):
    got = post(echo, "/readline5", b"abcdefgh\nxy")
    assert got["parts"] == ["abcde", "fgh\n", "xy"]


@pytest.mark.parametrize("te_chunked", [False, True], ids=["content-length", "chunked"])
def test_one_mebibyte_body(echo, te_chunked):
    body = bytes((i * 31) % 256 for i in range(1 << 20))
    got = post(echo, "/readn", body, te_chunked)
    assert got["body"].encode("latin-1") == body


def test_empty_chunked_body(echo):
    got = post(echo, "/read", b"", te_chunked=True)
    assert got["body"] == ""


def test_chunk_extensions_and_trailers_are_accepted(echo):
    payload = b"5;name=value\r\nhello\r\n6;x\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    resp = echo.request("POST", "/read", [("Transfer-Encoding", "chunked")], payload)
    assert resp.status == 200
    assert resp.json()["body"] == "hello world"


def test_body_read_in_one_request_does_not_leak_into_the_next(echo):
    with echo.connect() as c:
        for body in (b"first body", b"second, longer body"):
            c.send(build_request("POST", "/read", body=body))
            assert c.read_response().json()["body"].encode() == body


def test_expect_100_continue_before_the_body(echo):
    with echo.connect() as c:
        c.send(build_request("POST", "/read", [("Content-Length", "5"),
                                               ("Expect", "100-continue")]))
        interim = c.read_response(skip_interim=False)
        assert interim.status == 100
        c.send(b"hello")
        resp = c.read_response()
        assert resp.status == 200
        assert resp.json()["body"] == "hello"


def test_large_bodies_read_whole_or_in_pieces_on_one_connection(echo):
    # read() of a whole large body hands the receive buffer to Python; read(n) copies out of
    # a buffer the connection keeps between uploads. Neither may show another request's bytes.
    with echo.connect() as c:
        for i, path in enumerate(["/read", "/read", "/readn", "/read", "GET", "/readn", "/read"]):
            if path == "GET":
                c.send(build_request("GET", "/noread"))
                assert c.read_response().status == 200
                continue
            body = bytes((j * 7 + i) % 256 for j in range(300 * 1024))
            c.send(build_request("POST", path, [("Content-Type", "application/octet-stream")],
                                 body=body))
            resp = c.read_response()
            assert resp.status == 200
            assert resp.json()["body"].encode("latin-1") == body, (i, path)
