#include <gtest/gtest.h>

#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

std::string env(const std::string& key) {
  return py_eval("seen['environ'].get('" + key + "', '<absent>')");
}

TEST(Environ, CgiKeysAsGunicornSetsThem) {
  TestRequest r("POST", "/a%20b/c?x=1&y=%41");
  r.header("Host", "example.com:8000")
      .header("Content-Type", "text/plain")
      .header("Content-Length", "3");
  r.with_body("abc");
  auto ex = run("environ_app", r);
  EXPECT_EQ(ex.outcome.status, 200);
  EXPECT_EQ(env("REQUEST_METHOD"), "'POST'");
  EXPECT_EQ(env("SCRIPT_NAME"), "''");
  EXPECT_EQ(env("PATH_INFO"), "'/a b/c'");
  EXPECT_EQ(env("QUERY_STRING"), "'x=1&y=%41'");  // raw, not decoded
  EXPECT_EQ(env("RAW_URI"), "'/a%20b/c?x=1&y=%41'");
  EXPECT_EQ(env("SERVER_NAME"), "'127.0.0.1'");
  EXPECT_EQ(env("SERVER_PORT"), "'8000'");
  EXPECT_EQ(env("SERVER_PROTOCOL"), "'HTTP/1.1'");
  EXPECT_EQ(env("REMOTE_ADDR"), "'127.0.0.1'");
  EXPECT_EQ(env("REMOTE_PORT"), "'54321'");
  EXPECT_EQ(env("CONTENT_TYPE"), "'text/plain'");
  EXPECT_EQ(env("CONTENT_LENGTH"), "'3'");
  EXPECT_EQ(env("HTTP_CONTENT_TYPE"), "'<absent>'");  // gunicorn: not duplicated as HTTP_*
  EXPECT_EQ(env("HTTP_HOST"), "'example.com:8000'");
  EXPECT_EQ(env("wsgi.version"), "(1, 0)");
  EXPECT_EQ(env("wsgi.url_scheme"), "'http'");
  EXPECT_EQ(env("wsgi.multithread"), "True");
  EXPECT_EQ(env("wsgi.multiprocess"), "True");  // workers = 2 in the test settings
  EXPECT_EQ(env("wsgi.run_once"), "False");
  EXPECT_EQ(env("wsgi.input_terminated"), "True");
  EXPECT_EQ(py_eval("'wsgi.input' in seen['environ'] or True"), "True");
}

TEST(Environ, PathIsUnquotedAsLatin1AndMalformedEscapesStay) {
  TestRequest r("GET", "/caf%C3%A9/%zz/%4/%");
  auto ex = run("environ_app", r);
  EXPECT_EQ(ex.outcome.status, 200);
  // Two bytes C3 A9 → two latin-1 characters (PEP 3333), bad escapes untouched.
  EXPECT_EQ(py_eval("seen['environ']['PATH_INFO'] == '/caf\\xc3\\xa9/%zz/%4/%'"), "True")
      << env("PATH_INFO");
}

TEST(Environ, RepeatedHeadersJoinWithCommaAndNamesAreUpperCased) {
  TestRequest r("GET", "/");
  r.header("X-Custom-Thing", "one").header("x-custom-thing", "two").header("Accept", "a/b");
  run("environ_app", r);
  EXPECT_EQ(env("HTTP_X_CUSTOM_THING"), "'one,two'");
  EXPECT_EQ(env("HTTP_ACCEPT"), "'a/b'");
}

TEST(Environ, KnownHeadersMatchInAnyCase) {
  TestRequest r("GET", "/");
  r.header("accept", "a/b")
      .header("ACCEPT", "c/d")
      .header("content-type", "x/y")
      .header("Content-length", "0")
      .header("hOsT", "h:1")
      .header("Accepts", "not-accept");
  run("environ_app", r);
  EXPECT_EQ(env("HTTP_ACCEPT"), "'a/b,c/d'");
  EXPECT_EQ(env("CONTENT_TYPE"), "'x/y'");
  EXPECT_EQ(env("CONTENT_LENGTH"), "'0'");
  EXPECT_EQ(env("HTTP_HOST"), "'h:1'");
  EXPECT_EQ(env("HTTP_ACCEPTS"), "'not-accept'");
}

TEST(Environ, PeerValuesFollowEachRequest) {
  // The builder keeps the previous request's peer strings: a new peer must replace them.
  auto runner = make_runner("environ_app");
  auto serve = [&](PeerInfo peer) {
    TestRequest r("GET", "/");
    CollectingWriter w;
    runner->handle(r.req, r.body, peer, w);
    return env("REMOTE_ADDR") + " " + env("REMOTE_PORT") + " " + env("SERVER_NAME") + " " +
           env("SERVER_PORT");
  };
  PeerInfo other = tcp_peer("10.0.0.7");
  other.remote_port = 7;
  other.server_name = "0.0.0.0";
  other.server_port = "9000";
  EXPECT_EQ(serve(tcp_peer()), "'127.0.0.1' '54321' '127.0.0.1' '8000'");
  EXPECT_EQ(serve(other), "'10.0.0.7' '7' '0.0.0.0' '9000'");
  EXPECT_EQ(serve(tcp_peer()), "'127.0.0.1' '54321' '127.0.0.1' '8000'");
  PeerInfo same_slot = tcp_peer();  // a port the REMOTE_PORT cache files with 54321
  same_slot.remote_port = 54321 + 64;
  EXPECT_EQ(serve(same_slot), "'127.0.0.1' '54385' '127.0.0.1' '8000'");
  EXPECT_EQ(serve(tcp_peer()), "'127.0.0.1' '54321' '127.0.0.1' '8000'");
}

TEST(Environ, ObsTextHeaderValuesAreLatin1) {
  TestRequest r("GET", "/");
  r.header("X-Name", "caf\xe9");
  run("environ_app", r);
  EXPECT_EQ(env("HTTP_X_NAME"), "'café'");
}

TEST(Environ, Http10Protocol) {
  TestRequest r("GET", "/", 0);
  run("environ_app", r);
  EXPECT_EQ(env("SERVER_PROTOCOL"), "'HTTP/1.0'");
}

TEST(Environ, UrlSchemeHttpsOnlyFromATrustedPeerWithAMatchingHeader) {
  {
    TestRequest r("GET", "/");
    r.header("X-Forwarded-Proto", "https");
    run("environ_app", r, tcp_peer("127.0.0.1"));
    EXPECT_EQ(env("wsgi.url_scheme"), "'https'");
  }
  {
    TestRequest r("GET", "/");
    r.header("X-Forwarded-Proto", "https");
    run("environ_app", r, tcp_peer("10.1.2.3"));  // not in forwarded_allow_ips
    EXPECT_EQ(env("wsgi.url_scheme"), "'http'");
  }
  {
    TestRequest r("GET", "/");
    r.header("X-Forwarded-Proto", "http");
    run("environ_app", r);
    EXPECT_EQ(env("wsgi.url_scheme"), "'http'");
  }
  {
    TestRequest r("GET", "/");  // contradictory headers never upgrade the scheme
    r.header("X-Forwarded-Proto", "https").header("X-Forwarded-Ssl", "off");
    run("environ_app", r);
    EXPECT_EQ(env("wsgi.url_scheme"), "'http'");
  }
}

TEST(Environ, WildcardForwardedAllowIps) {
  auto settings = app_settings("environ_app");
  settings.forwarded_allow_ips = {"*"};
  auto runner = with_gil([&] { return std::make_unique<AppRunner>(settings); });
  TestRequest r("GET", "/");
  r.header("X-Forwarded-Ssl", "on");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer("203.0.113.9"), w);
  EXPECT_EQ(env("wsgi.url_scheme"), "'https'");
}

TEST(Environ, UnixSocketPeerAsGunicorn) {
  PeerInfo unix_peer;
  unix_peer.unix_socket = true;
  unix_peer.server_name = "/run/app.sock";
  {
    TestRequest r("GET", "/");
    r.header("Host", "site.example:8443");
    run("environ_app", r, unix_peer);
    EXPECT_EQ(env("REMOTE_ADDR"), "''");
    EXPECT_EQ(env("REMOTE_PORT"), "'<absent>'");
    EXPECT_EQ(env("SERVER_NAME"), "'site.example'");
    EXPECT_EQ(env("SERVER_PORT"), "'8443'");
  }
  {
    TestRequest r("GET", "/");
    r.header("Host", "site.example");
    run("environ_app", r, unix_peer);
    EXPECT_EQ(env("SERVER_PORT"), "'80'");
  }
  {
    TestRequest r("GET", "/", 0);
    run("environ_app", r, unix_peer);
    EXPECT_EQ(env("SERVER_NAME"), "'/run/app.sock'");
    EXPECT_EQ(env("SERVER_PORT"), "''");
  }
}

TEST(Environ, ForwardedAllowIpsTakesCidrRanges) {
  auto settings = app_settings("environ_app");
  settings.forwarded_allow_ips = {"10.0.0.0/8", "fd00::/8"};
  auto runner = with_gil([&] { return std::make_unique<AppRunner>(settings); });
  auto scheme_from = [&](const std::string& addr) {
    TestRequest r("GET", "/");
    r.header("X-Forwarded-Proto", "https");
    CollectingWriter w;
    runner->handle(r.req, r.body, tcp_peer(addr), w);
    return env("wsgi.url_scheme");
  };
  EXPECT_EQ(scheme_from("10.200.3.4"), "'https'");
  EXPECT_EQ(scheme_from("::ffff:10.200.3.4"), "'https'");  // IPv4 client on a dual-stack listener
  EXPECT_EQ(scheme_from("fd12::1"), "'https'");
  EXPECT_EQ(scheme_from("11.0.0.1"), "'http'");
  EXPECT_EQ(scheme_from("127.0.0.1"), "'http'");  // the default list was replaced
}

TEST(Environ, ScriptNameFromATrustedForwarder) {
  // gunicorn 22+: forwarder_headers (default SCRIPT_NAME,PATH_INFO) from a forwarded_allow_ips
  // peer; the SCRIPT_NAME field sets SCRIPT_NAME and is cut off the front of PATH_INFO.
  TestRequest r("GET", "/app/page?q=1");
  r.header("SCRIPT_NAME", "/app");
  run("environ_app", r, tcp_peer("127.0.0.1"));
  EXPECT_EQ(env("SCRIPT_NAME"), "'/app'");
  EXPECT_EQ(env("PATH_INFO"), "'/page'");
  EXPECT_EQ(env("HTTP_SCRIPT_NAME"), "'/app'");  // gunicorn keeps the field as HTTP_* too
}

TEST(Environ, ScriptNameFromAnUntrustedPeerIsNotObeyed) {
  TestRequest r("GET", "/app/page");
  r.header("Script_Name", "/app");  // reached the app only under header_map=dangerous
  run("environ_app", r, tcp_peer("203.0.113.9"));
  EXPECT_EQ(env("SCRIPT_NAME"), "''");
  EXPECT_EQ(env("PATH_INFO"), "'/app/page'");
}

TEST(Environ, ScriptNameOnlyWhenForwarderHeadersNameIt) {
  auto settings = app_settings("environ_app");
  settings.forwarder_headers = {"REMOTE_USER"};
  auto runner = with_gil([&] { return std::make_unique<AppRunner>(settings); });
  TestRequest r("GET", "/app/page");
  r.header("SCRIPT_NAME", "/app").header("REMOTE_USER", "alice");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer("127.0.0.1"), w);
  EXPECT_EQ(env("SCRIPT_NAME"), "''");
  EXPECT_EQ(env("PATH_INFO"), "'/app/page'");
  EXPECT_EQ(env("HTTP_REMOTE_USER"), "'alice'");
}

TEST(Environ, PathInfoFieldIsOnlyAnHttpKey) {
  // gunicorn's wsgi.py gives SCRIPT_NAME alone a meaning; PATH_INFO stays the request's.
  TestRequest r("GET", "/real");
  r.header("PATH_INFO", "/fake");
  run("environ_app", r, tcp_peer("127.0.0.1"));
  EXPECT_EQ(env("PATH_INFO"), "'/real'");
  EXPECT_EQ(env("HTTP_PATH_INFO"), "'/fake'");
}

TEST(Environ, ScriptNameThatIsNotAPrefixLeavesThePath) {
  TestRequest r("GET", "/other/page");
  r.header("SCRIPT_NAME", "/app");
  run("environ_app", r, tcp_peer("127.0.0.1"));
  EXPECT_EQ(env("SCRIPT_NAME"), "'/app'");
  EXPECT_EQ(env("PATH_INFO"), "'/other/page'");
}

TEST(Environ, UnixSocketPeerIsATrustedForwarder) {
  PeerInfo unix_peer;
  unix_peer.unix_socket = true;
  unix_peer.server_name = "/run/app.sock";
  TestRequest r("GET", "/app/x");
  r.header("Host", "site.example")
      .header("SCRIPT_NAME", "/app")
      .header("X-Forwarded-Proto", "https");
  run("environ_app", r, unix_peer);
  EXPECT_EQ(env("SCRIPT_NAME"), "'/app'");
  EXPECT_EQ(env("wsgi.url_scheme"), "'https'");
}

TEST(Environ, UnixSocketPeerWithAnAddressFromAProxyHeader) {
  // PROXY protocol over a unix socket (nginx stream): the client's address and port are
  // known, and trust follows that address, not the socket.
  PeerInfo peer;
  peer.unix_socket = true;
  peer.server_name = "/run/app.sock";
  peer.remote_addr = "203.0.113.9";
  peer.remote_port = 40000;
  TestRequest r("GET", "/");
  r.header("Host", "site.example").header("X-Forwarded-Proto", "https");
  run("environ_app", r, peer);
  EXPECT_EQ(env("REMOTE_ADDR"), "'203.0.113.9'");
  EXPECT_EQ(env("REMOTE_PORT"), "'40000'");
  EXPECT_EQ(env("SERVER_NAME"), "'site.example'");
  EXPECT_EQ(env("wsgi.url_scheme"), "'http'");
}

TEST(Environ, ChunkedBodyGetsItsDecodedLength) {
  TestRequest r("POST", "/");
  r.header("Transfer-Encoding", "chunked");
  r.body.append("hello");
  r.req.framing = http::BodyFraming::Chunked;
  run("environ_app", r);
  EXPECT_EQ(env("CONTENT_LENGTH"), "'5'");
}

}  // namespace
}  // namespace gthreadd::wsgi::test
