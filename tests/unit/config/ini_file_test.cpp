#include "gthreadd/config/ini_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gthreadd/config/command_line.hpp"

namespace gthreadd::config {
namespace {

class IniFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/gthreadd-ini-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& text) {
    const auto path = (dir_ / "site.ini").string();
    std::ofstream(path) << text;
    return path;
  }
  std::string error_of(const std::string& text) {
    Settings s;
    try {
      apply_ini_file(s, write(text));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(IniFileTest, ReadsGunicornSettingNames) {
  Settings s;
  apply_ini_file(s, write("; deployment\n"
                          "[uwsgi]\nworkers = not-ours\n"
                          "[gthreadd]\n"
                          "wsgi_app = app:create_app('prod')\n"
                          "workers = 4\n"
                          "threads = 8\n"
                          "keepalive = 10\n"
                          "max-requests = 1000\n"
                          "preload_app = yes\n"
                          "sendfile = off\n"
                          "reuse_port = 1\n"
                          "bind = unix:/run/a.sock, 127.0.0.1:0\n"
                          "pythonpath = /srv/a,/srv/b\n"
                          "raw_env = A=1\n"
                          "raw_env = B=2\n"
                          "umask = 0027\n"
                          "accesslog = -\n"
                          "access_log_format = %(h)s \"%(r)s\"\n"
                          "secure_scheme_headers = X-Forwarded-Proto=https\n"
                          "header_timeout = 2.5\n"));
  EXPECT_EQ(s.app.attribute, "create_app");
  EXPECT_EQ(s.app.call_arguments, "'prod'");
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.threads, 8);
  EXPECT_EQ(s.keepalive, 10);
  EXPECT_EQ(s.max_requests, 1000);
  EXPECT_TRUE(s.preload_app);
  EXPECT_FALSE(s.sendfile);
  EXPECT_TRUE(s.reuse_port);
  ASSERT_EQ(s.bind.size(), 2u);
  EXPECT_EQ(s.bind[0].path, "/run/a.sock");
  EXPECT_EQ(s.pythonpath, (std::vector<std::string>{"/srv/a", "/srv/b"}));
  EXPECT_EQ(s.raw_env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(s.umask, 027);
  EXPECT_EQ(s.accesslog, "-");
  EXPECT_EQ(s.access_log_format, "%(h)s \"%(r)s\"");
  EXPECT_EQ(s.secure_scheme_headers,
            (std::map<std::string, std::string>{{"X-FORWARDED-PROTO", "https"}}));
  EXPECT_DOUBLE_EQ(s.header_timeout, 2.5);
}

TEST_F(IniFileTest, GunicornSectionWorksToo) {
  Settings s;
  apply_ini_file(s, write("[gunicorn]\nworkers = 3\n"));
  EXPECT_EQ(s.workers, 3);
}

TEST_F(IniFileTest, BadValueNamesFileLineAndSetting) {
  const auto message = error_of("[gthreadd]\nworkers = 2\n\nthreads = lots\n");
  EXPECT_NE(message.find("site.ini:4:"), std::string::npos) << message;
  EXPECT_NE(message.find("threads"), std::string::npos) << message;
  EXPECT_NE(message.find("'lots'"), std::string::npos) << message;
}

TEST_F(IniFileTest, BadBooleanIsRefused) {
  const auto message = error_of("[gthreadd]\npreload_app = sure\n");
  EXPECT_NE(message.find("site.ini:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("true/false"), std::string::npos) << message;
}

TEST_F(IniFileTest, UnknownKeyIsNamed) {
  const auto message = error_of("[gthreadd]\nworkerz = 2\n");
  EXPECT_NE(message.find("site.ini:2:"), std::string::npos) << message;
  EXPECT_NE(message.find("'workerz'"), std::string::npos) << message;
}

TEST_F(IniFileTest, SyntaxErrorNamesTheLine) {
  const auto message = error_of("[gthreadd]\nworkers 2\nthreads = x\n");
  EXPECT_NE(message.find("site.ini:2:"), std::string::npos) << message;
}

TEST_F(IniFileTest, RefusedSettingSaysWhy) {
  EXPECT_NE(error_of("[gthreadd]\nworker_class = eventlet\n").find("only the gthread worker"),
            std::string::npos);
}

TEST_F(IniFileTest, KeysOutsideASectionOrNoSectionAreErrors) {
  EXPECT_NE(error_of("workers = 2\n").find("outside a [gthreadd] section"), std::string::npos);
  EXPECT_NE(error_of("[other]\nworkers = 2\n").find("no [gthreadd]"), std::string::npos);
}

TEST(ShippedExample, ConfigGthreaddIniIsValid) {
  Settings s;
  apply_ini_file(s, GTHREADD_TEST_DATA "/../../config/gthreadd.ini");
  EXPECT_EQ(s.app.module, "mysite.wsgi");
  EXPECT_EQ(s.workers, 3);
  EXPECT_EQ(s.bind.size(), 2u);
  EXPECT_EQ(s.umask, 07);
}

}  // namespace
}  // namespace gthreadd::config
