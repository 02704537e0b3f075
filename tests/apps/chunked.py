"""A generator response with no Content-Length: the server must chunk it on HTTP/1.1 and
close-delimit it on HTTP/1.0. Body is "part0\n" .. "part9\n"."""

PARTS = [b"part%d\n" % i for i in range(10)]


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def generate():
        for part in PARTS:
            yield part
            yield b""  # empty chunks must not end the chunked body early

    return generate()


application = app
