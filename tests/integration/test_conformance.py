"""RFC 9110/9112 conformance and gunicorn 22-26 parser settings found by outside suites
(issue 10): Host validation, a repeated Content-Type, CONNECT, --header-map,
--casefold-http-method, and folded header values that must survive the read buffer moving
while the body arrives."""
import json

import pytest

from conftest import assert_rejected, build_request, counter_module_server, module_server

pytestmark = pytest.mark.strict  # gunicorn 20.1 accepts most of these

folding = module_server("environ_dump:app", args=["--permit-obsolete-folding"])


def environ_of(resp):
    assert resp.status == 200, resp
    return json.loads(resp.body)


# --- folded values survive a body arriving in later reads (issue 10) --------------------

@pytest.mark.parametrize("framing", ["chunked", "length"])
def test_folded_value_is_exact_when_the_body_arrives_later(folding, framing):
    # The head goes first; "Expect: 100-continue" makes the server say when it has parsed
    # it (the 100 is the readiness probe, no sleep), so the body arrives in later reads that
    # grow, and move, the connection's read buffer. Before the fix the folded value reached
    # the app as heap garbage here.
    body = b"b" * (600 * 1024)
    if framing == "chunked":
        wire_body = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        frame = b"Transfer-Encoding: chunked\r\n"
    else:
        wire_body = body
        frame = b"Content-Length: %d\r\n" % len(body)
    head = (b"POST /up HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: first part\r\n"
            b"  second part\r\n\tthird\r\nX-After: plain\r\n" + frame +
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
    with folding.connect(timeout=10) as c:
        c.send(head)
        interim = c.read_response(skip_interim=False)
        assert interim.status == 100, interim
        for i in range(0, len(wire_body), 64 * 1024):  # several writes, several reads
            c.send(wire_body[i:i + 64 * 1024])
        env = environ_of(c.read_response("POST"))
    assert env["HTTP_X_FOLDED"] == "first part second part third"
    assert env["HTTP_X_AFTER"] == "plain"
    assert env["REQUEST_METHOD"] == "POST" and env["PATH_INFO"] == "/up"


def test_folded_value_on_keep_alive_requests(folding):
    # The head copy is reused across requests on one connection: each request sees its own.
    with folding.connect() as c:
        for i in range(3):
            c.send(b"GET /k%d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-F: v%d\r\n  w%d\r\n\r\n" % (i, i, i))
            env = environ_of(c.read_response())
            assert env["HTTP_X_F"] == "v%d w%d" % (i, i)
            assert env["PATH_INFO"] == "/k%d" % i


# --- Host (RFC 9112 section 3.2: MUST 400 for an invalid value) -------------------------

def with_host(value):
    return b"GET /target HTTP/1.1\r\nHost:" + value + b"\r\n\r\n"


BAD_HOSTS = [
    ("empty", b""),
    ("blank", b"   "),
    ("userinfo", b" user@127.0.0.1"),
    ("userinfo_password", b" user:pw@127.0.0.1"),
    ("path", b" 127.0.0.1/x"),
    ("comma_list", b" a.example, b.example"),
    ("comma_no_space", b" a.example,b.example"),
    ("port_not_digits", b" 127.0.0.1:8o"),
    ("port_too_big", b" 127.0.0.1:65536"),
    ("ipv6_unbracketed", b" ::1"),
    ("ipv6_bad", b" [::g]"),
    ("space_inside", b" exa mple"),
    ("absolute_uri", b" http://127.0.0.1"),
]


@pytest.mark.parametrize("value", [pytest.param(v, id=n) for n, v in BAD_HOSTS])
def test_invalid_host_is_400(counter, value):
    assert_rejected(counter, with_host(value), 400)


@pytest.mark.parametrize("value", [b" example.com", b" 127.0.0.1:8000", b" [::1]", b" [::1]:8000",
                                   b" Example.COM."])
def test_valid_host_is_served(counter, value):
    with counter.connect() as c:
        c.send(b"GET /ok HTTP/1.1\r\nHost:" + value + b"\r\nConnection: close\r\n\r\n")
        assert c.read_response().status == 200


def test_repeated_content_type_is_400(counter):
    assert_rejected(counter, b"POST /target HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                             b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 400)


def test_connect_is_501_without_the_app_and_closes(counter):
    resp = assert_rejected(
        counter, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501)
    assert resp.status == 501


# --- gunicorn 22+ settings ------------------------------------------------------------

UNDERSCORE = [("X-Forwarded-For", "1.2.3.4"), ("X_Forwarded_For", "6.6.6.6"), ("X_Only", "u")]

dump = module_server("environ_dump:app")
dangerous = module_server("environ_dump:app", args=["--header-map", "dangerous"])
casefold = module_server("environ_dump:app", args=["--casefold-http-method",
                                                   "--permit-unconventional-http-method"])
refuse_shared, refuse = counter_module_server("refuse", ["--header-map", "refuse"])
casefold_strict_shared, casefold_strict = counter_module_server(
    "casefold_strict", ["--casefold-http-method"])


def test_header_map_drop_is_the_default(dump):
    env = environ_of(dump.request("GET", "/", UNDERSCORE))
    assert env["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert "HTTP_X_ONLY" not in env


def test_header_map_refuse_is_400(refuse):
    assert_rejected(refuse, build_request("GET", "/", UNDERSCORE), 400)


def test_header_map_dangerous_maps_like_gunicorn(dangerous):
    # gunicorn's wsgi.py: both names become HTTP_X_FORWARDED_FOR, joined with "," in the
    # order received; nothing is silently overwritten.
    env = environ_of(dangerous.request("GET", "/", UNDERSCORE))
    assert env["HTTP_X_FORWARDED_FOR"] == "1.2.3.4,6.6.6.6"
    assert env["HTTP_X_ONLY"] == "u"


def test_casefold_http_method_upper_cases_unconventional_methods(casefold):
    with casefold.connect() as c:
        c.send(b"get /m HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert environ_of(c.read_response())["REQUEST_METHOD"] == "GET"


def test_casefold_alone_still_refuses_lower_case_methods(casefold_strict):
    # gunicorn 22+ validates first: a lower-case method needs
    # --permit-unconventional-http-method too.
    assert_rejected(casefold_strict, b"get / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400)
