// One embedded interpreter for the whole unit_wsgi binary, started as a worker would:
// start_interpreter, then the main thread gives the GIL away to the request threads.
#include <gtest/gtest.h>
#include <signal.h>

#include "wsgi_test_support.hpp"

namespace {

class PythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    gthreadd::wsgi::start_interpreter(gthreadd::wsgi::test::app_settings("application"));
    gthreadd::wsgi::release_gil_from_main_thread();
  }
  // No TearDown: like a worker, the process exits without finalising Python.
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PythonEnvironment);

TEST(Interpreter, PythonpathAndCwdArePrependedToSysPath) {
  using gthreadd::wsgi::test::py_eval;
  const std::string apps = std::string(GTHREADD_TEST_APPS) + "/unit";
  EXPECT_EQ(py_eval("__import__('sys').path[0]"), "'" + apps + "'");
  EXPECT_EQ(py_eval("__import__('os').getcwd() in __import__('sys').path"), "True");
  // Debian's stdlib and dist-packages (flask lives there) are on the path.
  EXPECT_EQ(py_eval("__import__('sys').prefix"), "'/usr'");
}

TEST(Interpreter, SignalHandlersAreNotInstalled) {
  // With install_signal_handlers = 0 CPython leaves the process's SIGINT and SIGPIPE
  // dispositions alone: the worker's signal handling stays in C++. What is there is what the
  // test inherited: SIG_DFL, or SIG_IGN when it was started as a background job (a shell
  // without job control ignores SIGINT for those) - never a handler of CPython's.
  struct sigaction sa {};
  ASSERT_EQ(::sigaction(SIGINT, nullptr, &sa), 0);
  EXPECT_TRUE(sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN);
  EXPECT_EQ(sa.sa_flags & SA_SIGINFO, 0);
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &sa), 0);
  EXPECT_TRUE(sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN);
  EXPECT_EQ(sa.sa_flags & SA_SIGINFO, 0);
}

}  // namespace
