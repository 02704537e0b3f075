#pragma once
// Shared by the wsgi unit tests: one interpreter for the whole binary (a gtest Environment),
// requests built by hand, a ResponseWriter that collects bytes, and a response splitter.
#include <gtest/gtest.h>
#include <pybind11/embed.h>

#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gthreadd/config/settings.hpp"
#include "gthreadd/http/request.hpp"
#include "gthreadd/http/request_body.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/peer_info.hpp"
#include "gthreadd/wsgi/response_writer.hpp"

namespace gthreadd::wsgi::test {

inline config::Settings app_settings(const std::string& attribute,
                                     const std::string& module = "wsgi_unit_apps") {
  config::Settings s;
  s.app.module = module;
  s.app.attribute = attribute;
  s.pythonpath = {std::string(GTHREADD_TEST_APPS) + "/unit"};
  s.workers = 2;
  return s;
}

class CollectingWriter : public ResponseWriter {
 public:
  bool send(std::span<const iovec> iov) override {
    ++send_calls;
    if (fail) return false;
    for (const auto& v : iov) data.append(static_cast<const char*>(v.iov_base), v.iov_len);
    return true;
  }
  bool send_file(int fd, off_t offset, std::size_t count) override {
    ++sendfile_calls;
    if (fail) return false;
    std::string buf(count, '\0');
    const ssize_t got = ::pread(fd, buf.data(), count, offset);
    if (got < 0 || static_cast<std::size_t>(got) != count) return false;
    data += buf;
    return true;
  }
  std::string data;
  int send_calls = 0;
  int sendfile_calls = 0;
  bool fail = false;
};

// A request whose views point into strings this object owns.
class TestRequest {
 public:
  TestRequest(std::string method, std::string target, int minor = 1) {
    method_ = std::move(method);
    target_ = std::move(target);
    req.method = method_;
    req.target = target_;
    const auto q = target_.find('?');
    req.path = std::string_view(target_).substr(0, q);
    req.query =
        q == std::string::npos ? std::string_view() : std::string_view(target_).substr(q + 1);
    req.version_minor = minor;
    req.keep_alive = minor == 1;
  }
  TestRequest& header(std::string name, std::string value) {
    storage_.emplace_back(std::move(name));
    const std::string& n = storage_.back();
    storage_.emplace_back(std::move(value));
    const std::string& v = storage_.back();
    req.headers.push_back({n, v});
    return *this;
  }
  TestRequest& with_body(const std::string& bytes) {
    body.append(bytes);
    req.framing = http::BodyFraming::ContentLength;
    req.content_length = bytes.size();
    return *this;
  }
  http::Request req;
  http::RequestBody body;

 private:
  std::string method_, target_;
  std::deque<std::string> storage_;  // stable addresses for the views
};

inline PeerInfo tcp_peer(std::string addr = "127.0.0.1") {
  PeerInfo p;
  p.remote_addr = std::move(addr);
  p.remote_port = 54321;
  p.server_name = "127.0.0.1";
  p.server_port = "8000";
  return p;
}

struct ParsedResponse {
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;                                 // raw bytes after the head
  std::size_t count(const std::string& name) const { return headers.count(name); }
  std::string get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string("<absent>") : it->second;
  }
};

inline ParsedResponse parse_response(const std::string& raw) {
  ParsedResponse r;
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::string head = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  std::size_t pos = head.find("\r\n");
  r.status_line = head.substr(0, pos);
  pos += 2;
  while (pos < head.size()) {
    const auto eol = head.find("\r\n", pos);
    const std::string line = head.substr(pos, eol - pos);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(name, line.substr(colon + 2));
    pos = eol + 2;
  }
  return r;
}

// Runs Python with the GIL from a test thread (the main thread released it at start-up).
template <typename F>
auto with_gil(F&& f) {
  pybind11::gil_scoped_acquire gil;
  return f();
}

inline std::string py_eval(const std::string& expr) {
  return with_gil([&] {
    auto ns = pybind11::module_::import("wsgi_unit_apps").attr("__dict__");
    return pybind11::repr(pybind11::eval(expr, ns)).cast<std::string>();
  });
}

inline void py_exec(const std::string& code) {
  with_gil([&] {
    auto ns = pybind11::module_::import("wsgi_unit_apps").attr("__dict__");
    pybind11::exec(code, ns);
    return 0;
  });
}

inline std::unique_ptr<AppRunner> make_runner(const std::string& attribute) {
  return with_gil([&] { return std::make_unique<AppRunner>(app_settings(attribute)); });
}

struct Exchange {
  RequestOutcome outcome;
  std::string raw;
  ParsedResponse response;
};

inline Exchange run(const std::string& attribute, TestRequest& request,
                    PeerInfo peer = tcp_peer()) {
  auto runner = make_runner(attribute);
  CollectingWriter writer;
  Exchange ex;
  ex.outcome = runner->handle(request.req, request.body, peer, writer);
  ex.raw = writer.data;
  ex.response = parse_response(writer.data);
  return ex;
}

}  // namespace gthreadd::wsgi::test
