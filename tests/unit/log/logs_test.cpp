#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "gthreadd/log/access_log.hpp"
#include "gthreadd/log/logger.hpp"

namespace gthreadd::log {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class LogsTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gthreadd-log-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    config::Settings stderr_log;
    init_error_log(stderr_log);  // release the file before it is removed
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(LogsTest, ErrorLogUsesGunicornsLineFormatAndLevel) {
  config::Settings settings;
  settings.errorlog = (dir_ / "error.log").string();
  settings.loglevel = "warning";
  init_error_log(settings);
  spdlog::info("not shown at level warning");
  spdlog::warn("Worker {} booting", 7);
  spdlog::critical("bye");

  const auto text = read(dir_ / "error.log");
  const std::string pid = std::to_string(::getpid());
  const std::regex expected(R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[)" + pid +
                            R"(\] \[WARNING\] Worker 7 booting
\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[)" +
                            pid + R"(\] \[CRITICAL\] bye
)");
  EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST_F(LogsTest, UnopenableErrorLogNamesTheFile) {
  config::Settings settings;
  std::ofstream(dir_ / "a-file") << "not a directory";
  settings.errorlog = (dir_ / "a-file" / "error.log").string();
  try {
    init_error_log(settings);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("a-file"), std::string::npos) << e.what();
  }
}

TEST_F(LogsTest, ReopenFollowsLogrotate) {
  config::Settings settings;
  settings.errorlog = (dir_ / "error.log").string();
  init_error_log(settings);
  AccessLog access((dir_ / "access.log").string(), "%(m)s %(U)s %(s)s");

  AccessRecord record;
  record.method = "GET";
  record.path = "/before";
  record.status = 200;
  spdlog::info("before rotation");
  access.log(record);

  fs::rename(dir_ / "error.log", dir_ / "error.log.1");
  fs::rename(dir_ / "access.log", dir_ / "access.log.1");
  reopen_logs();

  record.path = "/after";
  spdlog::info("after rotation");
  access.log(record);
  access.write_line("raw line");

  EXPECT_EQ(read(dir_ / "access.log.1"), "GET /before 200\n");
  EXPECT_EQ(read(dir_ / "access.log"), "GET /after 200\nraw line\n");
  EXPECT_NE(read(dir_ / "error.log.1").find("[INFO] before rotation\n"), std::string::npos);
  const auto after = read(dir_ / "error.log");
  EXPECT_NE(after.find("[INFO] after rotation\n"), std::string::npos) << after;
  EXPECT_EQ(after.find("before rotation"), std::string::npos);
}

TEST_F(LogsTest, AccessLogToUnwritablePathNamesIt) {
  EXPECT_THROW(AccessLog((dir_ / "no" / "access.log").string(), "%(h)s"), std::runtime_error);
  EXPECT_THROW(AccessLog((dir_ / "access.log").string(), "%(h"), std::invalid_argument);
}

// With a Python logging configuration (wsgi/python_logging) the records go to the routed sink
// only, at the routed level, and USR1 also runs the hook that reopens Python's handlers; the
// next init_error_log (HUP) takes both back.
TEST_F(LogsTest, RoutedErrorLogAndReopenHookUntilTheNextInit) {
  config::Settings settings;
  settings.errorlog = (dir_ / "error.log").string();
  init_error_log(settings);
  std::ostringstream routed;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(routed);
  sink->set_pattern("%l %v");
  int reopened = 0;
  route_error_log(sink, spdlog::level::warn, [&reopened] { ++reopened; });
  spdlog::info("dropped below the routed level");
  spdlog::error("to the routed sink");
  reopen_logs();
  EXPECT_EQ(routed.str(), "error to the routed sink\n");
  EXPECT_EQ(reopened, 1);
  EXPECT_EQ(read(dir_ / "error.log"), "");

  init_error_log(settings);
  spdlog::info("back in the file");
  reopen_logs();
  EXPECT_EQ(reopened, 1);
  EXPECT_NE(read(dir_ / "error.log").find("[INFO] back in the file"), std::string::npos);
  EXPECT_EQ(routed.str(), "error to the routed sink\n");
}

}  // namespace
}  // namespace gthreadd::log
