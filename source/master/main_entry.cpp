#include "gthreadd/master/main_entry.hpp"

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "gthreadd/config/command_line.hpp"
#include "gthreadd/log/logger.hpp"
#include "gthreadd/master/arbiter.hpp"
#include "gthreadd/net/listener.hpp"
#include "gthreadd/wsgi/app_runner.hpp"
#include "gthreadd/wsgi/interpreter.hpp"

namespace gthreadd::master {
namespace {

// --check-config: validate and import the app, as gunicorn does, then exit 0 or 1.
int check_config(const config::Settings& settings) {
  try {
    wsgi::start_interpreter(settings);
    wsgi::AppRunner runner(settings);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return 1;
  }
  std::cout << "Configuration OK: " << settings.app_uri_text << '\n';
  return 0;
}

}  // namespace

int run_main(int argc, char** argv) {
  config::ParseOutcome outcome;
  try {
    outcome = config::parse_settings(argc, argv);
  } catch (const config::ConfigError& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return 2;
  }
  if (outcome.action == config::ParseOutcome::Action::Exit) return outcome.exit_code;
  config::Settings& settings = outcome.settings;
  if (settings.print_config) {
    std::cout << config::format_settings(settings);
    if (!settings.check_config) return 0;
  }
  if (settings.check_config) return check_config(settings);

  try {
    log::init_error_log(settings);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << '\n';
    return 1;
  }

  std::vector<net::Listener> listeners;
  try {
    listeners = net::bind_listeners(settings);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    spdlog::error("Can't connect to {}", settings.bind.empty() ? "" : settings.bind.front().original);
    return 1;
  }

  try {
    Arbiter arbiter(settings, std::move(listeners),
                    [argc, argv] { return config::parse_settings(argc, argv).settings; },
                    std::vector<std::string>(argv, argv + argc));
    return arbiter.run();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}

}  // namespace gthreadd::master
