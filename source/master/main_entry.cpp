#include "gthreadd/master/main_entry.hpp"
#include "gthreadd/tls/server_tls.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "gthreadd/config/command_line.hpp"
#include "gthreadd/log/logger.hpp"
#include "gthreadd/master/arbiter.hpp"
#include "gthreadd/master/control_client.hpp"
#include "gthreadd/master/process_setup.hpp"
#include "gthreadd/master/resource_checks.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/python_config.hpp"
#include "gthreadd/wsgi/python_logging.hpp"

namespace gthreadd::master {
namespace {

// --check-config: validate and import the app, as gunicorn does, then exit 0 or 1.
int check_config(const config::Settings& settings) {
  try {
    if (auto error = tls::install(settings); !error.empty()) throw std::runtime_error(error);
    wsgi::start_interpreter(settings);
    wsgi::AppRunner runner(settings);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return 1;
  }
  std::cout << "Configuration OK: " << settings.app_uri_text << '\n';
  return 0;
}

// A refused configuration is also written to the error log file the sources named (once,
// in gunicorn's line format), where an operator of a service reads, not only to stderr.
void log_config_error(const config::ConfigError& e) {
  if (e.errorlog.empty() || e.errorlog == "-") return;
  config::Settings only_the_log;
  only_the_log.errorlog = e.errorlog;
  try {
    log::init_error_log(only_the_log);
    spdlog::error("Error: {}", e.what());
  } catch (const std::exception&) {
    // The file cannot be opened: stderr already has the message.
  }
}

// Start-up before the process title and the sockets: the environment, daemon mode, the
// error log and the checks that refuse to start. False after saying why on stderr.
bool prepare_master(const config::Settings& settings) {
  try {
    apply_raw_env(settings);
    if (settings.daemon) daemonize(settings.enable_stdio_inheritance);
    log::init_error_log(settings);
    log_current_configuration(settings);
    if (auto error = check_body_tmp_dir(settings); !error.empty()) throw std::runtime_error(error);
    // The certificate and key are read now, as gunicorn's create_sockets checks them at
    // start-up: a bad path or a key that does not match is one line and exit 1.
    if (auto error = tls::install(settings); !error.empty()) throw std::runtime_error(error);
    fit_fd_limit(settings);
    for (const auto& warning : settings.config_warnings) spdlog::warn("{}", warning);
    prepare_log_files(settings);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return false;
  }
  return true;
}

// The listening sockets, --umask applied to the unix socket files and those chowned to the
// worker user. Nothing after logging why.
std::optional<std::vector<net::Listener>> open_listeners(const config::Settings& settings) {
  std::vector<net::Listener> listeners;
  try {
    // --umask applies to the unix socket files we create, as in gunicorn's create_sockets.
    const mode_t old_umask = ::umask(static_cast<mode_t>(settings.umask));
    net::BindRetry retry;  // gunicorn's 5 attempts a second apart, logged here
    retry.log = [](bool debug, const std::string& line) {
      debug ? spdlog::debug("{}", line) : spdlog::error("{}", line);
    };
    listeners = net::bind_listeners(settings, retry);
    ::umask(old_umask);
    // gunicorn's sock.py chowns a unix socket to the worker user and group after bind, so a
    // proxy running as that user can connect when --umask keeps others out.
    for (const auto& l : listeners) {
      if (!l.is_unix || l.inherited || l.address.kind != config::BindAddress::Kind::Unix) continue;
      if (auto error = chown_for_workers(settings, l.address.path); !error.empty())
        throw std::runtime_error(error);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());  // "Can't connect to ('127.0.0.1', 8000)" from bind_listeners
    return std::nullopt;
  }
  return listeners;
}

// --preload: import the app once in the master; workers inherit it through fork (with
// CPython's fork hooks). The master stays single-threaded: no TBB here. False after logging
// why (gunicorn's exit status 4, "App failed to load").
bool preload_app(const config::Settings& settings, std::unique_ptr<wsgi::AppRunner>& preloaded) {
  try {
    wsgi::start_interpreter(settings);
    preloaded = std::make_unique<wsgi::AppRunner>(settings);
  } catch (const std::exception& e) {
    spdlog::error("Exception while preloading the app:\n{}", e.what());
    spdlog::error("Reason: App failed to load.");
    return false;
  }
  return true;
}

}  // namespace

int run_main(int argc, char** argv) {
  // `gthreadd ctl ...`: the control socket's client (gunicorn's gunicornc), not a server.
  if (argc > 1 && std::string_view(argv[1]) == "ctl") return run_control_client(argc - 1, argv + 1);
  // Our own copy of the command line: the process title is written over argv's memory,
  // and HUP re-parses and USR2 re-execs from it.
  std::vector<std::string> args(argv, argv + argc);
  wsgi::install_python_config_reader();  // -c gunicorn.conf.py runs in this process
  auto parse_args = [args] {
    std::vector<const char*> ptrs;
    for (const auto& a : args) ptrs.push_back(a.c_str());
    return config::parse_settings(static_cast<int>(ptrs.size()), ptrs.data());
  };
  config::ParseOutcome outcome;
  try {
    outcome = parse_args();
  } catch (const config::ConfigError& e) {
    std::cerr << "Error: " << e.what() << '\n';
    log_config_error(e);
    return e.exit_status;
  }
  if (outcome.action == config::ParseOutcome::Action::Exit) return outcome.exit_code;
  config::Settings& settings = outcome.settings;
  if (settings.print_config) {
    std::cout << config::format_settings(settings);
    // gunicorn: --print-config implies --check-config; with no app there is nothing to import.
    if (settings.app_uri_text.empty()) return 0;
  }
  if (settings.check_config) return check_config(settings);

  if (!prepare_master(settings)) return 1;
  ProcessTitle::init(argc, argv);
  ProcessTitle::set("gthreadd: master [" + process_label(settings) + "]");

  auto listeners = open_listeners(settings);
  if (!listeners) return 1;

  // A Python logging configuration: the master's records go to gunicorn.error too, as
  // gunicorn's Arbiter logs through its Logger; the lines above (bind retries) were written
  // before it existed and went to the error log.
  try {
    wsgi::apply_python_logging_in_master(settings);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  std::unique_ptr<wsgi::AppRunner> preloaded;
  if (settings.preload_app && !preload_app(settings, preloaded)) return 4;
  try {
    Arbiter arbiter(
        settings, std::move(*listeners), [parse_args] { return parse_args().settings; }, args,
        std::move(preloaded));
    return arbiter.run();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}

}  // namespace gthreadd::master
