"""The WSGI environ the app sees (PEP 3333 plus the CGI keys gunicorn sets)."""
import pytest

from conftest import build_request, module_server

environ = module_server("environ_dump:app")


def dump(server, target="/", headers=None, method="GET", body=b""):
    resp = server.request(method, target, headers, body)
    assert resp.status == 200, resp
    return resp.json()


def test_cgi_and_wsgi_keys(environ):
    env = dump(environ, "/some/path?a=1&b=2")
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/some/path"
    assert env["QUERY_STRING"] == "a=1&b=2"
    assert env["RAW_URI"] == "/some/path?a=1&b=2"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_PORT"] == str(environ.port)
    assert env["SERVER_NAME"]
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"].isdigit()
    assert env["HTTP_HOST"] == "127.0.0.1"
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is True
    assert env["wsgi.multiprocess"] is False  # one worker
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    for key in ("wsgi.input", "wsgi.errors"):
        assert key in env
    assert env["_file_wrapper_callable"] is True


def test_post_sets_content_type_and_length_without_http_prefix(environ):
    env = dump(environ, "/", [("Content-Type", "text/plain")], "POST", b"12345")
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env


def test_headers_become_http_keys(environ):
    env = dump(environ, "/", [("X-Custom-Header", "value 1"), ("Accept", "*/*")])
    assert env["HTTP_X_CUSTOM_HEADER"] == "value 1"
    assert env["HTTP_ACCEPT"] == "*/*"


def test_path_info_is_unquoted_and_latin1_decoded_query_is_raw(environ):
    env = dump(environ, "/a%20b/caf%C3%A9?x=%20y&z")
    assert env["PATH_INFO"] == "/a b/caf\u00c3\u00a9"  # PEP 3333: bytes as latin-1
    assert env["QUERY_STRING"] == "x=%20y&z"
    assert env["RAW_URI"] == "/a%20b/caf%C3%A9?x=%20y&z"


def test_absolute_form_maps_to_path_info(environ):
    env = dump(environ, "http://example.com/a/b?x=1")
    assert env["PATH_INFO"] == "/a/b"
    assert env["QUERY_STRING"] == "x=1"


def test_obs_text_in_a_header_value_passes_through_as_latin1(environ):
    env = dump(environ, "/", [(b"X-Latin", b"caf\xe9 \xff")])
    assert env["HTTP_X_LATIN"] == "caf\u00e9 \u00ff"


@pytest.mark.strict  # gunicorn 20.1 maps X_Forwarded_For onto HTTP_X_FORWARDED_FOR
def test_headers_with_underscores_are_dropped(environ):
    env = dump(environ, "/", [("X_Forwarded_For", "6.6.6.6"), ("X-Real", "1")])
    assert "HTTP_X_FORWARDED_FOR" not in env
    assert env["HTTP_X_REAL"] == "1"
    assert "6.6.6.6" not in repr(env)


@pytest.mark.parametrize("target", ["/a%zz", "/a%", "/%C3%28", "/a%2"])
def test_malformed_percent_escape_is_never_a_500(environ, target):
    with environ.connect() as c:
        c.send(build_request("GET", target, [("Connection", "close")]))
        resp = c.read_response()
    assert resp.status in (200, 400), resp


def test_http10_request_protocol(environ):
    with environ.connect() as c:
        c.send(build_request("GET", "/", version="HTTP/1.0", host=None))
        env = c.read_response().json()
    assert env["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_multiple_workers_set_multiprocess(make_server):
    server = make_server("environ_dump:app", workers=2)
    assert server.get("/").json()["wsgi.multiprocess"] is True
