// Setting rows: the app (what to load, from where, reloading).
#include "gthreadd/config/setting_groups.hpp"

#include <string>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {

using namespace builders;  // the row builders, in every file that appends rows

namespace {

// gunicorn's reload_engine: 'auto' picks inotify on Linux when the inotify module is
// installed, which gthreadd always has; 'poll' compares modification times once a second
// (for file systems that deliver no inotify events, such as network and some container bind
// mounts), as gunicorn's polling Reloader does.
std::string apply_reload_engine(Settings& s, std::string_view value) {
  const std::string word = lower_word(value);
  if (word == "auto" || word == "inotify" || word == "poll") {
    s.reload_engine = word;
    return {};
  }
  return quoted(value) + " is not one of: auto, inotify, poll";
}

std::string apply_app(Settings& s, std::string_view value) {
  std::string error;
  auto app = parse_app_uri(trim(value), error);
  if (!app) return error;
  s.app_uri_text = std::string(trim(value));
  s.app = std::move(*app);
  return {};
}

std::string check_env(std::string_view value) {
  const auto eq = value.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return quoted(value) + " is not KEY=VALUE";
  }
  return {};
}

}  // namespace

void append_app_settings(std::vector<SettingSpec>& t) {
  t.push_back(make("wsgi_app", "", "the WSGI application (MODULE:NAME), instead of APP_URI",
                   Kind::Value, apply_app,
                   [](const Settings& s) { return py_string(s.app_uri_text); }));
  t.push_back(text("chdir", "--chdir", "change to this directory before loading the app",
                   &Settings::chdir));
  t.push_back(comma_list("pythonpath", "--pythonpath",
                         "comma-separated directories added to sys.path", &Settings::pythonpath));
  t.push_back(text("virtualenv", "--virtualenv",
                   "virtualenv whose site-packages the app uses (default: $VIRTUAL_ENV)",
                   &Settings::virtualenv));
  t.push_back(repeatable("raw_env", "-e,--env",
                         "set an environment variable KEY=VALUE (repeatable)", &Settings::raw_env,
                         check_env));
  t.push_back(boolean("preload_app", "--preload", "load the app in the master before forking",
                      &Settings::preload_app));
  t.push_back(
      boolean("reload", "--reload", "restart workers when code changes", &Settings::reload));
  t.push_back(
      make("reload_engine", "--reload-engine",
           "how --reload watches files: auto (= inotify), inotify, or poll (mtimes once a second)",
           Kind::Value, apply_reload_engine, [](const Settings& s) { return s.reload_engine; }));
  t.push_back(
      repeatable("reload_extra_files", "--reload-extra-file",
                 "extra file or glob pattern (*, ?, [...], **) to watch with --reload (repeatable)",
                 &Settings::reload_extra_files));
  t.push_back(
      refused("paste", "--paste,--paster", Kind::Value,
              "PasteDeploy apps are not supported: point APP_URI at a module that builds the app"));
  t.push_back(refused("spew", "--spew", Kind::Flag,
                      "--spew traces every executed Python line; gthreadd does not provide it"));
}

}  // namespace gthreadd::config
