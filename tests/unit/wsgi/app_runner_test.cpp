// App loading and the threading model: one thread state per OS thread, concurrent handle().
#include <gtest/gtest.h>

#include <thread>

#include "wsgi_test_support.hpp"

namespace gthreadd::wsgi::test {
namespace {

std::string load_error(config::Settings settings) {
  try {
    with_gil([&] { return std::make_unique<AppRunner>(settings); });
  } catch (const AppLoadError& e) {
    return e.what();
  }
  return "<loaded>";
}

std::string body_of(const std::string& module, const std::string& attribute, bool call = false,
                    const std::string& args = "") {
  auto settings = app_settings(attribute, module);
  settings.app.is_call = call;
  settings.app.call_arguments = args;
  auto runner = with_gil([&] { return std::make_unique<AppRunner>(settings); });
  TestRequest r("GET", "/");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer(), w);
  return parse_response(w.data).body;
}

TEST(AppLoading, DefaultAttributeIsApplication) {
  EXPECT_EQ(body_of("wsgi_unit_apps", ""), "default application");
}

TEST(AppLoading, DottedAttributePath) {
  EXPECT_EQ(body_of("wsgi_unit_apps", "Holder.Inner.app"), "inner");
}

TEST(AppLoading, FactoryWithLiteralArguments) {
  EXPECT_EQ(body_of("wsgi_unit_apps", "create_app", true), "default");
  EXPECT_EQ(body_of("wsgi_unit_apps", "create_app", true, "'prod', suffix='-1'"), "prod-1");
}

TEST(AppLoading, FactoryArgumentsMustBeLiterals) {
  auto settings = app_settings("create_app");
  settings.app.is_call = true;
  settings.app.call_arguments = "__import__('os').getcwd()";
  const auto error = load_error(settings);
  EXPECT_NE(error.find("create_app"), std::string::npos) << error;
  EXPECT_NE(error.find("ValueError"), std::string::npos) << error;
}

TEST(AppLoading, MissingModuleIsNamed) {
  const auto error = load_error(app_settings("app", "no_such_module_xyz"));
  EXPECT_NE(error.find("no_such_module_xyz"), std::string::npos) << error;
  EXPECT_NE(error.find("ModuleNotFoundError"), std::string::npos) << error;
}

TEST(AppLoading, FailingImportInsideTheModuleShowsTheCause) {
  const auto error = load_error(app_settings("app", "wsgi_unit_broken"));
  EXPECT_NE(error.find("wsgi_unit_broken"), std::string::npos) << error;
  EXPECT_NE(error.find("module_that_does_not_exist_anywhere"), std::string::npos) << error;
}

TEST(AppLoading, MissingAttributeIsNamed) {
  const auto error = load_error(app_settings("Holder.Nope"));
  EXPECT_NE(error.find("Holder.Nope"), std::string::npos) << error;
  EXPECT_NE(error.find("wsgi_unit_apps"), std::string::npos) << error;
}

TEST(AppLoading, NonCallableIsRejected) {
  const auto error = load_error(app_settings("not_callable"));
  EXPECT_NE(error.find("not_callable"), std::string::npos) << error;
  EXPECT_NE(error.find("callable"), std::string::npos) << error;
}

TEST(Threading, ThreadLocalSurvivesRequestsOnTheSameThread) {
  auto runner = make_runner("local_app");
  std::vector<std::string> bodies;
  std::thread t([&] {
    for (int i = 0; i < 3; ++i) {
      TestRequest r("GET", "/");
      CollectingWriter w;
      runner->handle(r.req, r.body, tcp_peer(), w);
      bodies.push_back(parse_response(w.data).body);
    }
  });
  t.join();
  EXPECT_EQ(bodies, (std::vector<std::string>{"1", "2", "3"}));

  // Another OS thread has its own thread state, so its own threading.local.
  std::string other;
  std::thread t2([&] {
    TestRequest r("GET", "/");
    CollectingWriter w;
    runner->handle(r.req, r.body, tcp_peer(), w);
    other = parse_response(w.data).body;
  });
  t2.join();
  EXPECT_EQ(other, "1");
}

TEST(Threading, ConcurrentHandleFromFourThreads) {
  auto runner = make_runner("status_app");
  constexpr int kThreads = 4, kRequests = 50;
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i) {
        TestRequest r("GET", "/");
        const std::string body = "t" + std::to_string(t) + "r" + std::to_string(i);
        r.header("X-Body", body).header("X-Mode", i % 2 ? "gen" : "list");
        CollectingWriter w;
        auto out = runner->handle(r.req, r.body, tcp_peer(), w);
        auto resp = parse_response(w.data);
        const bool chunked = resp.get("transfer-encoding") == "chunked";
        if (out.status == 200 && out.keep_alive &&
            (chunked ? resp.body.find("0\r\n\r\n") != std::string::npos : resp.body == body))
          ++ok[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kRequests) << "thread " << t;
}

// wsgi.input and start_response objects are recycled between requests only when nothing
// else can reach them: a reference (or a weak reference) the app kept must never see a
// later request's body or response.
std::string handle_with_body(AppRunner& runner, const std::string& body) {
  TestRequest r("POST", "/");
  r.with_body(body);
  CollectingWriter w;
  runner.handle(r.req, r.body, tcp_peer(), w);
  return parse_response(w.data).body;
}

TEST(RequestObjects, KeptObjectsAreNeverHandedToALaterRequest) {
  py_exec(R"(
import weakref
def recycle_app(environ, start_response):
    n = seen.get('recycle_calls', 0) + 1
    seen['recycle_calls'] = n
    inp = environ['wsgi.input']
    if n == 1:
        seen['strong_input'], seen['strong_sr'] = inp, start_response
    elif n == 2:
        seen['weak_input'], seen['weak_sr'] = weakref.ref(inp), weakref.ref(start_response)
    else:
        seen.setdefault('shared', []).append(
            inp is seen['strong_input'] or start_response is seen['strong_sr']
            or inp is seen['weak_input']() or start_response is seen['weak_sr']())
    start_response('200 OK', [])
    return [inp.read()]
)");
  auto runner = make_runner("recycle_app");
  EXPECT_EQ(handle_with_body(*runner, "first"), "first");
  EXPECT_EQ(handle_with_body(*runner, "second"), "second");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(handle_with_body(*runner, "later"), "later");
  EXPECT_EQ(py_eval("seen['shared']"), "[False, False, False, False]");
  EXPECT_EQ(py_eval("seen['strong_input'].read()"), "b''");
  EXPECT_EQ(py_eval("seen['weak_input']() is None or seen['weak_input']().read() == b''"), "True");
  py_exec(
      "try:\n    seen['strong_sr']('200 OK', [])\n    seen['late'] = 'accepted'\n"
      "except ValueError:\n    seen['late'] = 'refused'\n");
  EXPECT_EQ(py_eval("seen['late']"), "'refused'");
}

TEST(RequestObjects, StartResponseTakesKeywordsAndRejectsBadCalls) {
  py_exec(R"(
def keyword_app(environ, start_response):
    errors = []
    for args, kwargs in (((), {}), (('200 OK',), {}), (('200 OK', [], None, 1), {}),
                         (('200 OK', []), {'nope': 1}), (('200 OK',), {'status': '200 OK'})):
        try:
            start_response(*args, **kwargs)
        except TypeError:
            errors.append('TypeError')
    write = start_response(headers=[('X-Kw', '1')], status='201 Created', exc_info=None)
    write(b'kw')
    return [str(errors.count('TypeError')).encode()]
)");
  auto runner = make_runner("keyword_app");
  TestRequest r("GET", "/");
  CollectingWriter w;
  runner->handle(r.req, r.body, tcp_peer(), w);
  auto resp = parse_response(w.data);
  EXPECT_EQ(resp.status_line, "HTTP/1.1 201 Created");
  EXPECT_EQ(resp.get("x-kw"), "1");
  EXPECT_NE(resp.body.find("kw"), std::string::npos);
  EXPECT_NE(resp.body.find('5'), std::string::npos) << resp.body;
}

}  // namespace
}  // namespace gthreadd::wsgi::test
