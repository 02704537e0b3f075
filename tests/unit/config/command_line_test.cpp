#include "gthreadd/config/command_line.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gthreadd/config/setting_table.hpp"

namespace gthreadd::config {
namespace {

namespace fs = std::filesystem;

// Every test runs in an empty temporary directory (./gthreadd.ini is picked up from the
// working directory) with the variables that feed settings unset.
class CommandLineTest : public testing::Test {
 protected:
  void SetUp() override {
    previous_ = fs::current_path();
    char pattern[] = "/tmp/gthreadd-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    fs::current_path(dir_);
    for (const char* name :
         {"GTHREADD_CMD_ARGS", "GUNICORN_CMD_ARGS", "PORT", "FORWARDED_ALLOW_IPS"}) {
      unsetenv(name);
    }
  }
  void TearDown() override {
    fs::current_path(previous_);
    fs::remove_all(dir_);
    unsetenv("GTHREADD_CMD_ARGS");
    unsetenv("GUNICORN_CMD_ARGS");
  }

  static ParseOutcome parse(std::vector<std::string> args) {
    args.insert(args.begin(), "gthreadd");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_settings(static_cast<int>(argv.size()), argv.data());
  }
  static Settings settings(std::vector<std::string> args) {
    return parse(std::move(args)).settings;
  }

  // The ConfigError message, or "" when parsing succeeded.
  static std::string error_of(std::vector<std::string> args) {
    try {
      parse(std::move(args));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  fs::path previous_;
  fs::path dir_;
};

TEST_F(CommandLineTest, DefaultsAreGunicorns) {
  auto s = settings({"app:app"});
  EXPECT_EQ(s.app.module, "app");
  EXPECT_EQ(s.app.attribute, "app");
  EXPECT_EQ(s.workers, 1);
  EXPECT_EQ(s.threads, 1);
  EXPECT_EQ(s.timeout, 30);
  EXPECT_EQ(s.graceful_timeout, 30);
  EXPECT_EQ(s.keepalive, 2);
  EXPECT_EQ(s.backlog, 2048);
  EXPECT_EQ(s.worker_connections, 1000);
  EXPECT_EQ(s.worker_class, "gthread");
  EXPECT_EQ(s.loglevel, "info");
  EXPECT_EQ(s.errorlog, "-");
  EXPECT_TRUE(s.accesslog.empty());
  EXPECT_TRUE(s.sendfile);
  ASSERT_EQ(s.bind.size(), 1u);
  EXPECT_EQ(s.bind[0].url(), "http://127.0.0.1:8000");
  EXPECT_TRUE(s.config_file.empty());
}

TEST_F(CommandLineTest, LongShortAndEqualsForms) {
  auto s = settings({"-w",
                     "4",
                     "--threads=8",
                     "-b",
                     "127.0.0.1:0",
                     "--bind",
                     "unix:/tmp/g.sock",
                     "-t",
                     "0",
                     "--keep-alive",
                     "5",
                     "-k",
                     "sync",
                     "--preload",
                     "--no-sendfile",
                     "-e",
                     "A=1",
                     "--env",
                     "B=x=y",
                     "--pythonpath",
                     "/a, /b",
                     "-m",
                     "0022",
                     "-n",
                     "site",
                     "--log-level",
                     "DEBUG",
                     "--limit-request-line",
                     "0",
                     "--forwarded-allow-ips",
                     "*",
                     "--cpu-affinity",
                     "0,1",
                     "pkg.wsgi"});
  EXPECT_EQ(s.workers, 4);
  EXPECT_EQ(s.threads, 8);
  ASSERT_EQ(s.bind.size(), 2u);
  EXPECT_EQ(s.bind[0].port, 0);
  EXPECT_EQ(s.bind[1].path, "/tmp/g.sock");
  EXPECT_EQ(s.timeout, 0);
  EXPECT_EQ(s.keepalive, 5);
  EXPECT_EQ(s.worker_class, "gthread");
  EXPECT_TRUE(s.preload_app);
  EXPECT_FALSE(s.sendfile);
  EXPECT_EQ(s.raw_env, (std::vector<std::string>{"A=1", "B=x=y"}));
  EXPECT_EQ(s.pythonpath, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(s.umask, 022);
  EXPECT_EQ(s.proc_name, "site");
  EXPECT_EQ(s.loglevel, "debug");
  EXPECT_EQ(s.limit_request_line, 0);
  EXPECT_EQ(s.forwarded_allow_ips, std::vector<std::string>{"*"});
  EXPECT_EQ(s.cpu_affinity, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.app.module, "pkg.wsgi");
  EXPECT_EQ(s.app.attribute, "application");
}

// gunicorn's own flag is --limit-request-field_size (underscore); a command line copied
// from a gunicorn unit must keep working.
TEST_F(CommandLineTest, AcceptsGunicornsUnderscoreFieldSizeFlag) {
  EXPECT_EQ(settings({"--limit-request-field_size", "100", "app"}).limit_request_field_size, 100);
  EXPECT_EQ(settings({"--limit-request-field-size", "200", "app"}).limit_request_field_size, 200);
}

TEST_F(CommandLineTest, LastValueWins) {
  EXPECT_EQ(settings({"-w", "2", "-w", "3", "app"}).workers, 3);
}

struct BadLine {
  std::vector<std::string> args;
  std::vector<std::string> message_parts;  // each must appear in the error
};

class BadCommandLineTest : public CommandLineTest, public testing::WithParamInterface<BadLine> {};

TEST_P(BadCommandLineTest, FailsWithAMessageNamingTheProblem) {
  const auto message = error_of(GetParam().args);
  ASSERT_FALSE(message.empty());
  for (const auto& part : GetParam().message_parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadCommandLineTest,
    testing::Values(
        BadLine{{}, {"APP_URI"}},
        BadLine{{"-w", "0", "app"}, {"--workers", "workers", "'0'", "integer >= 1"}},
        BadLine{{"-w", "many", "app"}, {"--workers", "'many'"}},
        BadLine{{"--threads", "-1", "app"}, {"--threads"}},
        BadLine{{"-k", "gevent", "app"}, {"gevent", "only the gthread worker"}},
        BadLine{{"-k", "uvicorn.workers.UvicornWorker", "app"}, {"only the gthread worker"}},
        BadLine{{"-b", "::1:80", "app"}, {"--bind", "brackets"}},
        BadLine{{"--limit-request-line", "-1", "app"}, {"limit_request_line", "integer >= 0"}},
        BadLine{{"--limit-request-fields", "many", "app"}, {"limit_request_fields"}},
        // TLS (issue 14): a value gthreadd cannot read is refused naming the setting.
        BadLine{{"--cert-reqs", "always", "app"}, {"cert_reqs", "CERT_REQUIRED"}},
        BadLine{{"--ssl-version", "SSLv2", "app"}, {"ssl_version", "not a TLS version"}},
        // A logger class is a module.Class (gunicorn's egg: entry points need its package).
        BadLine{{"--logger-class", "egg:gunicorn#simple2", "app"},
                {"logger_class", "name the class as module.Class"}},
        BadLine{{"--proxy-protocol", "v3", "app"},
                {"proxy_protocol", "'v3' is not one of: off, v1, v2, auto"}},
        BadLine{{"--log-level", "verbose", "app"},
                {"loglevel", "debug, info, warning, error, critical"}},
        BadLine{{"-m", "0999", "app"}, {"umask"}},
        BadLine{{"-e", "NOEQUALS", "app"}, {"KEY=VALUE"}},
        BadLine{{"--paste", "development.ini"}, {"PasteDeploy"}},
        BadLine{{"--spew", "app"}, {"--spew"}},
        BadLine{{"--no-such-flag", "app"}, {"--no-such-flag"}},
        BadLine{{"--statsd-host", "nohost", "app"}, {"HOST:PORT"}},
        BadLine{{"--log-syslog-to", "syslog.example:514", "app"}, {"udp://"}},
        BadLine{{"app:"}, {"APP_URI"}},
        BadLine{{"-c", "missing.ini", "app"}, {"'missing.ini' doesn't exist"}},
        BadLine{{"-c", "missing.py", "app"}, {"'missing.py' doesn't exist"}}));

TEST_F(CommandLineTest, PythonConfigNeedsTheInterpreter) {
  write("site.py", "workers = 2\n");
  EXPECT_NE(
      error_of({"-c", "site.py", "app"}).find(".py config files need the embedded interpreter"),
      std::string::npos);
}

// gunicorn's get_config_from_filename: one line, "Error: 'x.py' doesn't exist", exit 1 (not
// a parse error's 2, and no Python traceback).
TEST_F(CommandLineTest, MissingConfigFileIsOneLineAndExitsOne) {
  try {
    parse({"-c", "nowhere/gunicorn.conf.py", "app"});
    FAIL() << "a missing -c file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "'nowhere/gunicorn.conf.py' doesn't exist");
    EXPECT_EQ(e.exit_status, 1);
  }
  try {
    parse({"--workers", "x", "app"});
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.exit_status, 2);
  }
}

TEST_F(CommandLineTest, TlsSettingsAreReadFromEverySource) {
  write("tls.ini",
        "[gunicorn]\nworkers = 2\ncertfile = /etc/ssl/site.pem\ncert_reqs = CERT_OPTIONAL\n"
        "ssl_version = TLSv1_3\nciphers = ECDHE+AESGCM\nsuppress_ragged_eofs = false\n");
  auto s = settings({"-c", "tls.ini", "app"});
  EXPECT_EQ(s.certfile, "/etc/ssl/site.pem");
  EXPECT_EQ(s.cert_reqs, 1);
  EXPECT_EQ(s.ssl_version, 0x0304);
  EXPECT_EQ(s.ciphers, "ECDHE+AESGCM");
  EXPECT_FALSE(s.suppress_ragged_eofs);
  setenv("GUNICORN_CMD_ARGS", "--keyfile /etc/ssl/site.key --cert-reqs 2", 1);
  s = settings({"app"});
  EXPECT_EQ(s.keyfile, "/etc/ssl/site.key");
  EXPECT_EQ(s.cert_reqs, 2);
  unsetenv("GUNICORN_CMD_ARGS");
  // A .py config's ssl constants arrive as their enum's text.
  write("enum.ini",
        "[gunicorn]\ncert_reqs = VerifyMode.CERT_REQUIRED\n"
        "ssl_version = _SSLMethod.PROTOCOL_TLS_SERVER\n");
  s = settings({"-c", "enum.ini", "app"});
  EXPECT_EQ(s.cert_reqs, 2);
  EXPECT_EQ(s.ssl_version, 0x0303);
  // Older than TLS 1.2: ignored with a warning (gunicorn 21+ ignores ssl_version), never served.
  s = settings({"--ssl-version", "TLSv1", "app"});
  EXPECT_EQ(s.ssl_version, 0x0303);
  ASSERT_FALSE(s.config_warnings.empty());
  EXPECT_NE(s.config_warnings.back().find("ssl_version"), std::string::npos);
  // The ssl_context hook is refused with the reason.
  write("hook.ini", "[gunicorn]\nssl_context = anything\n");
  const auto message = error_of({"-c", "hook.ini", "app"});
  EXPECT_NE(message.find("ssl.SSLContext"), std::string::npos) << message;
  // --help lists the TLS options among those that work.
  testing::internal::CaptureStdout();
  parse({"--help"});
  const auto help = testing::internal::GetCapturedStdout();
  const auto footer = help.find("gunicorn options gthreadd refuses");
  ASSERT_NE(footer, std::string::npos) << help;
  EXPECT_LT(help.find("--certfile"), footer) << help;
  EXPECT_EQ(help.find("--certfile", footer), std::string::npos) << help;
}

// A refusal names the error log the sources set, so main can write it there too.
TEST_F(CommandLineTest, ConfigErrorCarriesTheErrorLogTheSourcesNamed) {
  write("bad.ini", "[gunicorn]\nerrorlog = /var/log/site/error.log\ncert_reqs = always\n");
  try {
    parse({"-c", "bad.ini", "app"});
    FAIL() << "cert_reqs = always was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.errorlog, "/var/log/site/error.log");
  }
  try {
    parse({"-c", "bad.ini", "--error-logfile", "cli.log", "app"});
    FAIL() << "cert_reqs = always was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.errorlog, "cli.log");
  }
}

// logconfig_dict is JSON text in an INI file (a .py dict is converted to it); {} is unset.
TEST_F(CommandLineTest, PythonLoggingSettingsAndLoggerClassesAreAccepted) {
  write("log.ini", "[gunicorn]\nlogconfig_dict = {\"version\": 1}\nlogconfig = logging.ini\n");
  EXPECT_EQ(error_of({"-c", "log.ini", "app"}), "");
  EXPECT_EQ(settings({"-c", "log.ini", "app"}).logconfig_dict, "{\"version\": 1}");
  write("log1.ini", "[gunicorn]\nlogconfig_dict = version=1\n");
  EXPECT_NE(error_of({"-c", "log1.ini", "app"}).find("logconfig_dict"), std::string::npos);
  // Whether it is a gunicorn.glogging.Logger subclass only Python tells, at start.
  EXPECT_EQ(error_of({"--logger-class", "myapp.Logger", "app"}), "");
  EXPECT_EQ(settings({"--logger-class", "myapp.Logger", "app"}).logger_class, "myapp.Logger");
  write("log2.ini",
        "[gunicorn]\nlogger_class = gunicorn.glogging.Logger\nlogconfig_dict = {}\nlogconfig =\n");
  EXPECT_EQ(error_of({"-c", "log2.ini", "app"}), "");
  EXPECT_EQ(error_of({"--logger-class", "simple", "app"}), "");
  EXPECT_EQ(settings({"--logger-class", "simple", "app"}).logger_class, "");
  EXPECT_EQ(settings({"-c", "log2.ini", "app"}).logger_class, "");
}

// gunicorn 24.1: --proxy-protocol [off|v1|v2|auto], the bare flag meaning auto; the flag
// must not take the APP_URI as its value.
TEST_F(CommandLineTest, ProxyProtocolBareFlagMeansAutoAndLeavesTheAppUri) {
  auto s = settings({"--proxy-protocol", "app:application"});
  EXPECT_EQ(s.proxy_protocol, "auto");
  EXPECT_EQ(s.app_uri_text, "app:application");
  s = settings({"app:application", "--proxy-protocol"});
  EXPECT_EQ(s.proxy_protocol, "auto");
  s = settings({"--proxy-protocol", "v2", "app"});
  EXPECT_EQ(s.proxy_protocol, "v2");
  EXPECT_EQ(s.app_uri_text, "app");
  s = settings({"--proxy-protocol=v1", "app"});
  EXPECT_EQ(s.proxy_protocol, "v1");
  s = settings({"--proxy-protocol", "OFF", "app"});
  EXPECT_EQ(s.proxy_protocol, "off");
  s = settings({"--proxy-protocol", "-w", "2", "app"});
  EXPECT_EQ(s.proxy_protocol, "auto");
  EXPECT_EQ(s.workers, 2);
  EXPECT_EQ(settings({"app"}).proxy_protocol, "off");
  setenv("GUNICORN_CMD_ARGS", "--proxy-protocol", 1);
  s = settings({"app"});
  EXPECT_EQ(s.proxy_protocol, "auto");
  EXPECT_EQ(s.app_uri_text, "app");
}

// gunicorn up to 23: proxy_protocol = True/False in config files.
TEST_F(CommandLineTest, ProxyProtocolBooleanInConfigFiles) {
  write("on.ini", "[gunicorn]\nproxy_protocol = True\n");
  EXPECT_EQ(settings({"-c", "on.ini", "app"}).proxy_protocol, "auto");
  write("off.ini", "[gunicorn]\nproxy_protocol = false\n");
  EXPECT_EQ(settings({"-c", "off.ini", "app"}).proxy_protocol, "off");
  write("v2.ini", "[gunicorn]\nproxy_protocol = v2\n");
  EXPECT_EQ(settings({"-c", "v2.ini", "app"}).proxy_protocol, "v2");
}

// gunicorn clamps limit_request_line to 8190 and limit_request_fields to 32768; configs with
// 8200 or 16384 must start, with one warning.
TEST_F(CommandLineTest, LimitsAboveTheMaximumAreClampedWithAWarning) {
  auto s = settings({"--limit-request-line", "8200", "app"});
  EXPECT_EQ(s.limit_request_line, 8190);
  ASSERT_EQ(s.config_warnings.size(), 1u);
  EXPECT_NE(s.config_warnings[0].find("--limit-request-line 8200"), std::string::npos)
      << s.config_warnings[0];
  EXPECT_NE(s.config_warnings[0].find("8190"), std::string::npos);
  write("big.ini", "[gunicorn]\nlimit_request_line = 16384\nlimit_request_fields = 40000\n");
  s = settings({"-c", "big.ini", "app"});
  EXPECT_EQ(s.limit_request_line, 8190);
  EXPECT_EQ(s.limit_request_fields, 32768);
  EXPECT_EQ(s.config_warnings.size(), 2u);
  // A later source that brings it back in range leaves nothing to warn about.
  s = settings(
      {"-c", "big.ini", "--limit-request-line", "4094", "--limit-request-fields", "100", "app"});
  EXPECT_EQ(s.limit_request_line, 4094);
  EXPECT_TRUE(s.config_warnings.empty());
  s = settings({"--limit-request-line", "8190", "app"});
  EXPECT_EQ(s.limit_request_line, 8190);
  EXPECT_TRUE(s.config_warnings.empty());
}

TEST_F(CommandLineTest, PrintConfigNeedsNoAppAndImpliesCheck) {
  auto s = settings({"--print-config"});
  EXPECT_TRUE(s.print_config);
  EXPECT_TRUE(s.check_config);
}

TEST_F(CommandLineTest, VersionAndHelpExitZero) {
  testing::internal::CaptureStdout();
  auto version = parse({"--version"});
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "gthreadd (version " GTHREADD_VERSION ")\n");
  EXPECT_EQ(version.action, ParseOutcome::Action::Exit);
  EXPECT_EQ(version.exit_code, 0);

  testing::internal::CaptureStdout();
  auto help = parse({"-h"});
  const auto text = testing::internal::GetCapturedStdout();
  EXPECT_EQ(help.action, ParseOutcome::Action::Exit);
  EXPECT_NE(text.find("--worker-connections"), std::string::npos);
  EXPECT_NE(text.find("APP_URI"), std::string::npos);
}

TEST_F(CommandLineTest, EnvArgumentsSitBetweenConfigFileAndCommandLine) {
  write("site.ini", "[gthreadd]\nworkers = 2\nthreads = 3\nkeepalive = 7\n");
  setenv("GUNICORN_CMD_ARGS", "--threads 5 --keep-alive 9", 1);
  auto s = settings({"-c", "site.ini", "--keep-alive", "11", "app"});
  EXPECT_EQ(s.workers, 2);     // file only
  EXPECT_EQ(s.threads, 5);     // env over file
  EXPECT_EQ(s.keepalive, 11);  // argv over env
  EXPECT_EQ(s.config_file, "site.ini");
}

TEST_F(CommandLineTest, GthreaddCmdArgsTakePrecedenceOverGunicornCmdArgs) {
  setenv("GTHREADD_CMD_ARGS", "-w 6 --name 'my site'", 1);
  setenv("GUNICORN_CMD_ARGS", "-w 9", 1);
  auto s = settings({"app"});
  EXPECT_EQ(s.workers, 6);
  EXPECT_EQ(s.proc_name, "my site");
}

TEST_F(CommandLineTest, EnvArgumentsCanNameTheConfigFile) {
  write("env.ini", "[gunicorn]\nworkers = 4\n");
  setenv("GUNICORN_CMD_ARGS", "-c env.ini", 1);
  EXPECT_EQ(settings({"app"}).workers, 4);
}

TEST_F(CommandLineTest, BadEnvValueNamesTheVariable) {
  setenv("GTHREADD_CMD_ARGS", "--workers none", 1);
  EXPECT_NE(error_of({"app"}).find("GTHREADD_CMD_ARGS"), std::string::npos);
  setenv("GTHREADD_CMD_ARGS", "--name 'open", 1);
  EXPECT_NE(error_of({"app"}).find("GTHREADD_CMD_ARGS"), std::string::npos);
}

TEST_F(CommandLineTest, LocalGthreaddIniIsReadWhenPresent) {
  write("gthreadd.ini",
        "[gthreadd]\nwsgi_app = site.wsgi:application\nbind = 127.0.0.1:0, unix:/tmp/x.sock\n");
  auto s = settings({});
  EXPECT_EQ(s.config_file, "gthreadd.ini");
  EXPECT_EQ(s.app.module, "site.wsgi");
  ASSERT_EQ(s.bind.size(), 2u);
  EXPECT_EQ(s.bind[1].path, "/tmp/x.sock");
}

TEST_F(CommandLineTest, CommandLineBindReplacesTheFilesBinds) {
  write("gthreadd.ini", "[gthreadd]\nbind = 127.0.0.1:1\nbind = 127.0.0.1:2\n");
  auto s = settings({"-b", "127.0.0.1:3", "app"});
  ASSERT_EQ(s.bind.size(), 1u);
  EXPECT_EQ(s.bind[0].port, 3);
}

TEST_F(CommandLineTest, PortVariableSetsTheDefaultBind) {
  setenv("PORT", "5000", 1);
  auto s = settings({"app"});
  unsetenv("PORT");
  ASSERT_EQ(s.bind.size(), 1u);
  EXPECT_EQ(s.bind[0].url(), "http://0.0.0.0:5000");
}

TEST_F(CommandLineTest, PrintConfigListsEverySettingSorted) {
  auto s = settings({"-w", "3", "-b", "[::1]:0", "--preload", "app:app"});
  const auto text = format_settings(s);
  EXPECT_NE(text.find("\nworkers                           = 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("bind "), std::string::npos);
  EXPECT_NE(text.find("= ['[::1]:0']\n"), std::string::npos);
  EXPECT_NE(text.find("= True\n"), std::string::npos);
  EXPECT_NE(text.find("wsgi_app"), std::string::npos);
  EXPECT_EQ(text.find("spew"), std::string::npos);  // refused settings are not settings
  std::vector<std::string> names;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    names.push_back(line.substr(0, line.find(' ')));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  const auto table = setting_table();
  const auto settable =
      std::count_if(table.begin(), table.end(), [](const auto& spec) { return !spec.refused; });
  EXPECT_EQ(names.size(), static_cast<std::size_t>(settable) + 1);  // + config
}

}  // namespace
}  // namespace gthreadd::config
