"""Apps that break the response rules; the server must answer 500 (before anything is sent)
or close the connection (once headers went out). The path picks the fault:

    /ok             a valid 200 "ok" (to check the connection afterwards)
    /bad-status     status "2000 OK"             /status-ctl   status "200 O\\x01K"
    /status-crlf    status with "\\r\\n" inside   /no-reason    status "200"
    /header-crlf    a value with "\\r\\nSet-Cookie: injected=1"
    /header-lf      a value with a bare "\\n"      /header-nul   a value with NUL
    /header-name    a header name that is not a token ("X Bad")
    /header-nonlatin a value outside latin-1
    /dup-cl         two Content-Length headers    /bad-cl       Content-Length "12abc"
    /str-body       a str instead of bytes in the body
    /short-body     Content-Length 20, 5 bytes sent (the server must close)
    /long-body      Content-Length 5, 20 bytes returned (the server must truncate)
    /raise-after    yields one chunk, then raises (the server must close)
"""


def _start(start_response, status="200 OK", extra=(), length=None):
    headers = [("Content-Type", "text/plain")]
    if length is not None:
        headers.append(("Content-Length", str(length)))
    headers.extend(extra)
    start_response(status, headers)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/ok":
        _start(start_response, length=2)
        return [b"ok"]
    statuses = {"/bad-status": "2000 OK", "/status-ctl": "200 O\x01K",
                "/status-crlf": "200 OK\r\nX-Injected: 1", "/no-reason": "200"}
    if path in statuses:
        _start(start_response, statuses[path], length=2)
        return [b"ok"]
    headers = {"/header-crlf": ("X-Test", "a\r\nSet-Cookie: injected=1"),
               "/header-lf": ("X-Test", "a\nSet-Cookie: injected=1"),
               "/header-nul": ("X-Test", "a\x00b"),
               "/header-name": ("X Bad", "1"),
               "/header-nonlatin": ("X-Test", "\u20ac")}
    if path in headers:
        _start(start_response, extra=[headers[path]], length=2)
        return [b"ok"]
    if path == "/dup-cl":
        _start(start_response, extra=[("Content-Length", "2"), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/bad-cl":
        _start(start_response, extra=[("Content-Length", "12abc")])
        return [b"ok"]
    if path == "/str-body":
        _start(start_response, length=2)
        return ["ok"]
    if path == "/short-body":
        _start(start_response, length=20)
        return [b"short"]
    if path == "/long-body":
        _start(start_response, length=5)
        return [b"12345", b"67890EXTRA-BYTES"]
    if path == "/raise-after":
        _start(start_response)

        def generate():
            yield b"first-chunk"
            raise RuntimeError("deliberate failure after the first chunk")

        return generate()
    _start(start_response, "404 Not Found", length=9)
    return [b"not found"]


application = app
