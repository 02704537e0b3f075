"""Request bodies as the app reads them through wsgi.input: Content-Length and chunked
framing, every read method, 100-continue. The echo app returns exactly what it read."""
import hashlib

import pytest

from conftest import Server, build_request, module_server

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


CHUNK_READER = '''
import hashlib


def app(environ, start_response):
    """Reads wsgi.input the way form parsers do: read(65536) until b"" (after a readline
    on /line), answering with the length of every read and a digest of all of it."""
    stream = environ["wsgi.input"]
    sizes = []
    digest = hashlib.sha256()
    if environ["PATH_INFO"] == "/line":
        first = stream.readline()
        sizes.append(len(first))
        digest.update(first)
    while True:
        data = stream.read(65536)
        if not data:
            break
        sizes.append(len(data))
        digest.update(data)
    body = ("%s %s" % (digest.hexdigest(), sizes)).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]
'''


@pytest.fixture(scope="module")
def chunk_reader(tmp_path_factory):
    apps = tmp_path_factory.mktemp("chunk_reader")
    (apps / "chunk_reader.py").write_text(CHUNK_READER)
    server = Server("chunk_reader:app", threads=2, chdir=str(apps)).start()
    yield server
    server.stop()


def test_read_in_64_kib_chunks_returns_every_byte_once(chunk_reader):
    # Whole 64 KiB pieces of a Content-Length body are handed to Python as they were
    # received; unaligned reads (after a readline) copy. One connection, so the pieces
    # kept between uploads are reused: no bytes of an earlier body may show.
    cases = [(65536, "/"), (3 * 65536 + 100, "/"), (1 << 20, "/"), (1 << 20, "/line"),
             (70000, "/line"), (1000, "/"), (1 << 20, "/"), (200000, "/")]
    with chunk_reader.connect() as c:
        for i, (length, path) in enumerate(cases):
            body = bytes((j * 13 + i) % 251 for j in range(length))
            body = body[:500] + b"\n" + body[501:]  # readline stops here on /line
            c.send(build_request("POST", path, [("Content-Type", "application/octet-stream")],
                                 body=body))
            resp = c.read_response()
            assert resp.status == 200
            digest, sizes = resp.body.decode().split(" ", 1)
            assert digest == hashlib.sha256(body).hexdigest(), (i, length, path)
            if path == "/":
                want = [min(65536, length - at) for at in range(0, length, 65536)]
                assert sizes == str(want)
