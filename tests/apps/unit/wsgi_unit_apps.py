"""WSGI apps for the in-process wsgi unit tests (tests/unit/wsgi). Each app records what it
saw in `seen` so the C++ test can assert on it."""
import sys
import threading

seen = {}


def _plain(start_response, body=b"ok", extra=()):
    start_response("200 OK", [("Content-Type", "text/plain")] + list(extra))
    return [body]


def environ_app(environ, start_response):
    seen["environ"] = {k: v for k, v in environ.items() if isinstance(v, (str, bool, tuple))}
    return _plain(start_response)


def input_app(environ, start_response):
    """Runs the script in the X-Ops header against wsgi.input: ops separated by ';'."""
    stream = environ["wsgi.input"]
    out = []
    for op in environ.get("HTTP_X_OPS", "read").split(";"):
        name, _, arg = op.partition(":")
        arg = int(arg) if arg else None
        if name == "read":
            out.append(stream.read() if arg is None else stream.read(arg))
        elif name == "readline":
            out.append(stream.readline() if arg is None else stream.readline(arg))
        elif name == "readlines":
            out.append(stream.readlines() if arg is None else stream.readlines(arg))
        elif name == "iter":
            out.append(list(stream))
    seen["input"] = out
    return _plain(start_response)


def status_app(environ, start_response):
    """Status and headers from the X-Status / X-Header-* request headers (latin-1 text)."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_X_HEADER_"):
            name, _, val = value.partition("=")
            headers.append((name, val))
    start_response(environ.get("HTTP_X_STATUS", "200 OK"), headers)
    body = environ.get("HTTP_X_BODY", "hello").encode("latin-1")
    mode = environ.get("HTTP_X_MODE", "list")
    if mode == "gen":
        return (bytes([b]) * 1 for b in body) if body else iter(())
    return [body]


def bad_header_value_app(environ, start_response):
    start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: pwned=1")])
    return [b"x"]


def bad_header_name_app(environ, start_response):
    start_response("200 OK", [("Bad Name", "v")])
    return [b"x"]


def two_lengths_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "1"), ("Content-Length", "1")])
    return [b"x"]


def bad_length_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "+1")])
    return [b"x"]


def non_latin1_app(environ, start_response):
    start_response("200 OK", [("X-Name", "\u20ac")])
    return [b"x"]


def str_body_app(environ, start_response):
    start_response("200 OK", [])
    return ["text is not bytes"]


def no_start_response_app(environ, start_response):
    return [b"body"]


def raising_app(environ, start_response):
    raise RuntimeError("boom from the app")


def raising_after_headers_app(environ, start_response):
    start_response("200 OK", [])

    def body():
        yield b"first"
        raise RuntimeError("boom mid-body")
    return body()


def exc_info_before_headers_app(environ, start_response):
    start_response("200 OK", [("X-First", "1")])
    try:
        raise ValueError("oops")
    except ValueError:
        start_response("503 Service Unavailable", [("X-Second", "1")], sys.exc_info())
    return [b"replaced"]


def exc_info_after_headers_app(environ, start_response):
    write = start_response("200 OK", [])
    write(b"sent")
    try:
        raise ValueError("late")
    except ValueError:
        try:
            start_response("500 Error", [], sys.exc_info())
        except ValueError as e:
            seen["reraised"] = str(e)
            raise
    return [b"never"]


def second_call_app(environ, start_response):
    start_response("200 OK", [])
    try:
        start_response("200 OK", [])
    except AssertionError as e:
        seen["second_call"] = str(e)
    return [b"x"]


def write_app(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"one,")
    write(b"two,")
    return [b"three"]


class ClosingBody:
    def __init__(self, chunks, fail=False):
        self.chunks = chunks
        self.fail = fail

    def __iter__(self):
        for chunk in self.chunks:
            if self.fail:
                raise RuntimeError("iteration failed")
            yield chunk

    def close(self):
        seen["close_calls"] = seen.get("close_calls", 0) + 1


def closing_app(environ, start_response):
    start_response("200 OK", [])
    return ClosingBody([b"a", b"b"], fail=environ.get("HTTP_X_FAIL") == "1")


def closing_bad_item_app(environ, start_response):
    start_response("200 OK", [])
    return ClosingBody([b"a", 42])


def file_app(environ, start_response):
    f = open(environ["HTTP_X_FILE"], "rb")
    skip = int(environ.get("HTTP_X_SKIP", "0"))
    if skip:
        f.read(skip)
    headers = []
    if "HTTP_X_LENGTH" in environ:
        headers.append(("Content-Length", environ["HTTP_X_LENGTH"]))
    start_response("200 OK", headers)
    return environ["wsgi.file_wrapper"](f, 4096)


def bytesio_file_app(environ, start_response):
    import io
    start_response("200 OK", [])
    return environ["wsgi.file_wrapper"](io.BytesIO(b"in memory file"), 4)


def errors_app(environ, start_response):
    print("logged via wsgi.errors", file=environ["wsgi.errors"])
    environ["wsgi.errors"].writelines(["a\n", "b\n"])
    environ["wsgi.errors"].flush()
    return _plain(start_response)


_local = threading.local()


def local_app(environ, start_response):
    _local.count = getattr(_local, "count", 0) + 1
    body = str(_local.count).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def keep_input_app(environ, start_response):
    seen["kept_input"] = environ["wsgi.input"]
    seen["kept_start_response"] = start_response
    return _plain(start_response)


# --- loading ---
class Holder:
    class Inner:
        @staticmethod
        def app(environ, start_response):
            return _plain(start_response, b"inner")


def create_app(name="default", *, suffix=""):
    def app(environ, start_response):
        return _plain(start_response, (name + suffix).encode())
    return app


not_callable = 42


def application(environ, start_response):
    return _plain(start_response, b"default application")
