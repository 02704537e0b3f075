#include "gthreadd/config/setting_table.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "gthreadd/config/tls_settings.hpp"
#include "gthreadd/config/value_parsers.hpp"
#include "gthreadd/core/address_matcher.hpp"

namespace gthreadd::config {
namespace {

using Kind = SettingSpec::Kind;

SettingSpec make(std::string_view name, std::string_view flags, std::string_view help, Kind kind,
                 std::function<std::string(Settings&, std::string_view)> apply,
                 std::function<std::string(const Settings&)> show) {
  SettingSpec spec;
  spec.name = name;
  spec.flags = flags;
  spec.help = help;
  spec.kind = kind;
  spec.apply = std::move(apply);
  spec.show = std::move(show);
  return spec;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Python's repr, since --print-config mirrors gunicorn's output.
std::string py_string(const std::string& text) { return text.empty() ? "None" : text; }
std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}
std::string py_bool(bool value) { return value ? "True" : "False"; }

SettingSpec integer(std::string_view name, std::string_view flags, std::string_view help,
                    int Settings::*field, long long min, long long max) {
  const std::string form =
      max == std::numeric_limits<int>::max()
          ? "an integer >= " + std::to_string(min)
          : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view text) -> std::string {
        auto value = parse_integer(text);
        if (!value || *value < min || *value > max) return quoted(text) + " is not " + form;
        s.*field = static_cast<int>(*value);
        return {};
      },
      [=](const Settings& s) { return std::to_string(s.*field); });
  spec.value_name = "INT";
  return spec;
}

SettingSpec decimal(std::string_view name, std::string_view flags, std::string_view help,
                    double Settings::*field) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view text) -> std::string {
        auto value = parse_decimal(text);
        if (!value || !(*value > 0)) return quoted(text) + " is not a number of seconds > 0";
        s.*field = *value;
        return {};
      },
      [=](const Settings& s) {
        auto text = std::to_string(s.*field);
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text += '0';
        return text;
      });
  spec.value_name = "SECONDS";
  return spec;
}

// Bytes, with an optional K, M or G suffix (powers of 1024).
SettingSpec byte_size(std::string_view name, std::string_view flags, std::string_view help,
                      std::uint64_t Settings::*field) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view text) -> std::string {
        auto value = parse_byte_size(text);
        if (!value)
          return quoted(text) + " is not a byte count (a number, optionally with K, M or G)";
        s.*field = *value;
        return {};
      },
      [=](const Settings& s) { return std::to_string(s.*field); });
  spec.value_name = "SIZE";
  return spec;
}

SettingSpec boolean(std::string_view name, std::string_view flags, std::string_view help,
                    bool Settings::*field, Kind kind = Kind::Flag) {
  return make(
      name, flags, help, kind,
      [=](Settings& s, std::string_view text) -> std::string {
        auto value = parse_boolean(text);
        if (!value) return quoted(text) + " is not a boolean (true/false, yes/no, on/off, 1/0)";
        s.*field = *value;
        return {};
      },
      [=](const Settings& s) { return py_bool(s.*field); });
}

SettingSpec text(std::string_view name, std::string_view flags, std::string_view help,
                 std::string Settings::*field) {
  return make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view value) -> std::string {
        s.*field = std::string(value);
        return {};
      },
      [=](const Settings& s) { return py_string(s.*field); });
}

SettingSpec comma_list(std::string_view name, std::string_view flags, std::string_view help,
                       std::vector<std::string> Settings::*field) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view value) -> std::string {
        s.*field = split_list(value);
        return {};
      },
      [=](const Settings& s) { return py_list(s.*field); });
  spec.value_name = "LIST";
  return spec;
}

// forwarded_allow_ips, proxy_allow_ips: '*', IP addresses and CIDR ranges, each checked
// at start-up (gunicorn refuses a bad entry too) so a typo cannot silently trust nobody.
SettingSpec address_list(std::string_view name, std::string_view flags, std::string_view help,
                         std::vector<std::string> Settings::*field) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view value) -> std::string {
        auto items = split_list(value);
        for (const auto& item : items)
          if (auto error = core::AddressMatcher::check_entry(item); !error.empty()) return error;
        s.*field = std::move(items);
        return {};
      },
      [=](const Settings& s) { return py_list(s.*field); });
  spec.value_name = "ADDRESSES";
  return spec;
}

SettingSpec repeatable(std::string_view name, std::string_view flags, std::string_view help,
                       std::vector<std::string> Settings::*field,
                       std::function<std::string(std::string_view)> check = {}) {
  SettingSpec spec = make(
      name, flags, help, Kind::Repeatable,
      [=](Settings& s, std::string_view value) -> std::string {
        if (check) {
          if (auto error = check(value); !error.empty()) return error;
        }
        (s.*field).emplace_back(value);
        return {};
      },
      [=](const Settings& s) { return py_list(s.*field); });
  spec.clear = [=](Settings& s) { (s.*field).clear(); };
  return spec;
}

SettingSpec one_of(std::string_view name, std::string_view flags, std::string_view help,
                   std::string Settings::*field, std::vector<std::string> choices) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=](Settings& s, std::string_view value) -> std::string {
        std::string word(trim(value));
        std::transform(word.begin(), word.end(), word.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (std::find(choices.begin(), choices.end(), word) == choices.end()) {
          std::string all;
          for (const auto& c : choices) all += (all.empty() ? "" : ", ") + c;
          return quoted(value) + " is not one of: " + all;
        }
        s.*field = word;
        return {};
      },
      [=](const Settings& s) { return s.*field; });
  spec.value_name = "{";
  for (const auto& c : choices) spec.value_name += (spec.value_name.size() > 1 ? "," : "") + c;
  spec.value_name += "}";
  return spec;
}

SettingSpec refused(std::string_view name, std::string_view flags, Kind kind, std::string why) {
  SettingSpec spec = make(
      name, flags, "refused: " + why, kind, [=](Settings&, std::string_view) { return why; },
      [](const Settings&) { return std::string("None"); });
  spec.refused = true;
  return spec;
}

// gunicorn 24.1's --proxy-protocol off|v1|v2|auto; gunicorn up to 23 had a boolean, so a
// config file's True means auto (detect either version) and False means off.
std::string apply_proxy_protocol(Settings& s, std::string_view value) {
  std::string word(trim(value));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (word == "off" || word == "v1" || word == "v2" || word == "auto") {
    s.proxy_protocol = word;
    return {};
  }
  if (auto flag = parse_boolean(word)) {
    s.proxy_protocol = *flag ? "auto" : "off";
    return {};
  }
  return quoted(value) +
         " is not one of: off, v1, v2, auto (or a boolean: true = auto, false = off)";
}

// gunicorn's worker classes: gthread is what gthreadd is; sync is served by the same
// threaded worker (one thread by default behaves like sync). Everything else is refused.
std::string apply_worker_class(Settings& s, std::string_view value) {
  const std::string word(trim(value));
  static const std::vector<std::string> gthread = {"gthread",
                                                   "sync",
                                                   "gunicorn.workers.gthread.ThreadWorker",
                                                   "gunicorn.workers.sync.SyncWorker",
                                                   "egg:gunicorn#gthread",
                                                   "egg:gunicorn#sync"};
  if (std::find(gthread.begin(), gthread.end(), word) != gthread.end()) {
    s.worker_class = "gthread";
    return {};
  }
  return "worker class " + quoted(value) +
         " is not available: gthreadd provides only the gthread worker (sync is accepted and "
         "runs as gthread); eventlet, gevent, tornado and ASGI workers need gunicorn";
}

// gunicorn's reload_engine: 'auto' picks inotify on Linux when the inotify module is
// installed, which gthreadd always has; 'poll' compares modification times once a second
// (for file systems that deliver no inotify events, such as network and some container bind
// mounts), as gunicorn's polling Reloader does.
std::string apply_reload_engine(Settings& s, std::string_view value) {
  std::string word(trim(value));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (word == "auto" || word == "inotify" || word == "poll") {
    s.reload_engine = word;
    return {};
  }
  return quoted(value) + " is not one of: auto, inotify, poll";
}

// logconfig_dict: a .py config's dict arrives as JSON text (wsgi/python_config); gunicorn's
// default, {}, means unset. Python's dictConfig checks the rest when it is applied.
std::string apply_logconfig_dict(Settings& s, std::string_view value) {
  const std::string_view text = trim(value);
  if (text.empty() || text == "{}") {
    s.logconfig_dict.clear();
    return {};
  }
  if (!text.starts_with("{") || !text.ends_with("}"))
    return quoted(value) + " is not a dict (JSON object text)";
  s.logconfig_dict = std::string(text);
  return {};
}

// logger_class: gunicorn's defaults mean "no Python logger"; any other name is a class the
// workers import and must find to be a gunicorn.glogging.Logger subclass (wsgi/python_logging
// refuses it at start otherwise: only Python can tell).
std::string apply_logger_class(Settings& s, std::string_view value) {
  std::string name(trim(value));
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "gunicorn.glogging.logger" || lower == "simple" ||
      lower == "gunicorn.instrument.statsd.statsd") {
    s.logger_class.clear();
    return {};
  }
  if (lower.starts_with("egg:"))
    return quoted(value) +
           ": egg: entry points need gunicorn's installed package; name the class as "
           "module.Class";
  s.logger_class = std::move(name);
  return {};
}

std::string apply_bind(Settings& s, std::string_view value) {
  std::string error;
  auto address = parse_bind_address(trim(value), error);
  if (!address) return error;
  s.bind.push_back(std::move(*address));
  return {};
}

std::string show_bind(const Settings& s) {
  std::vector<std::string> items;
  for (const auto& b : s.bind) items.push_back(b.original);
  return py_list(items);
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

std::string apply_umask(Settings& s, std::string_view value) {
  auto mask = parse_umask(value);
  if (!mask || *mask < 0 || *mask > 0777) {
    return quoted(value) + " is not a umask from 0 to 0777 (octal like 0022 or 0o22, or decimal)";
  }
  s.umask = static_cast<int>(*mask);
  return {};
}

std::string apply_body_limit(Settings& s, std::string_view value) {
  auto limit = parse_integer(value);
  if (!limit || *limit < 0) return quoted(value) + " is not a byte count >= 0 (0 = no limit)";
  s.limit_request_body = static_cast<std::uint64_t>(*limit);
  return {};
}

// "X-FORWARDED-PROTO=https, X-FORWARDED-SSL=on": gunicorn's dict as an INI value.
std::string apply_scheme_headers(Settings& s, std::string_view value) {
  std::map<std::string, std::string> headers;
  for (const auto& item : split_list(value)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return quoted(item) + " is not HEADER=VALUE (a comma list such as X-FORWARDED-PROTO=https)";
    }
    std::string name(trim(std::string_view(item).substr(0, eq)));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    headers[name] = std::string(trim(std::string_view(item).substr(eq + 1)));
  }
  s.secure_scheme_headers = std::move(headers);
  return {};
}

std::string show_scheme_headers(const Settings& s) {
  std::string out = "{";
  for (const auto& [name, value] : s.secure_scheme_headers) {
    out += (out.size() > 1 ? ", '" : "'") + name + "': '" + value + "'";
  }
  return out + "}";
}

std::string apply_cpu_affinity(Settings& s, std::string_view value) {
  std::vector<int> cpus;
  for (const auto& item : split_list(value)) {
    auto cpu = parse_integer(item);
    if (!cpu || *cpu < 0 || *cpu > 4095) {
      return quoted(item) + " is not a CPU number (a comma list such as 0,1,2)";
    }
    cpus.push_back(static_cast<int>(*cpu));
  }
  s.cpu_affinity = std::move(cpus);
  return {};
}

std::string show_cpu_affinity(const Settings& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.cpu_affinity.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(s.cpu_affinity[i]);
  }
  return out + "]";
}

// gunicorn's validate_statsd_address: HOST:PORT or unix:PATH.
std::string apply_statsd_host(Settings& s, std::string_view value) {
  const std::string_view address = trim(value);
  if (!address.empty() && !address.starts_with("unix:")) {
    const auto colon = address.rfind(':');
    auto port =
        colon == std::string_view::npos ? std::nullopt : parse_integer(address.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535)
      return quoted(value) + " is not HOST:PORT or unix:PATH";
  }
  s.statsd_host = std::string(address);
  return {};
}

// gunicorn's parse_syslog_address: udp://, tcp:// (a stream) and unix://PATH[#dgram|#stream]
// (log/syslog_writer opens them).
std::string apply_syslog_addr(Settings& s, std::string_view value) {
  const std::string_view address = trim(value);
  if (!address.starts_with("udp://") && !address.starts_with("tcp://") &&
      !address.starts_with("unix://")) {
    return quoted(value) + " is not udp://HOST:PORT, tcp://HOST:PORT or unix://PATH[#dgram]";
  }
  s.syslog_addr = std::string(address);
  return {};
}

// What --help shows for the values of settings whose builder (text, make, repeatable) cannot
// know more than "TEXT". A setting missing here still shows TEXT.
void name_values(std::vector<SettingSpec>& table) {
  static const std::map<std::string_view, std::string_view> names = {
      {"chdir", "DIR"},
      {"pythonpath", "DIRS"},
      {"virtualenv", "DIR"},
      {"raw_env", "KEY=VALUE"},
      {"reload_engine", "{auto,poll,inotify}"},
      {"reload_extra_files", "PATTERN"},
      {"bind", "ADDRESS"},
      {"worker_class", "CLASS"},
      {"worker_tmp_dir", "DIR"},
      {"body_tmp_dir", "DIR"},
      {"limit_request_body", "BYTES"},
      {"forwarder_headers", "HEADERS"},
      {"proxy_protocol", "{off,v1,v2,auto}"},
      {"pidfile", "FILE"},
      {"user", "USER"},
      {"group", "GROUP"},
      {"umask", "MODE"},
      {"proc_name", "NAME"},
      {"errorlog", "FILE"},
      {"accesslog", "FILE"},
      {"access_log_format", "FORMAT"},
      {"syslog_addr", "ADDRESS"},
      {"syslog_prefix", "NAME"},
      {"statsd_host", "ADDRESS"},
      {"statsd_prefix", "PREFIX"},
      {"dogstatsd_tags", "TAGS"},
      {"cpu_affinity", "CPUS"},
      {"timeout", "SECONDS"},
      {"graceful_timeout", "SECONDS"},
      {"keepalive", "SECONDS"},
      {"syslog_facility", "FACILITY"},
      {"logconfig", "FILE"},
      {"logconfig_json", "FILE"},
      {"metrics_bind", "ADDRESS"},
      {"max_worker_memory", "MiB"}};
  for (auto& spec : table) {
    if (auto it = names.find(spec.name); it != names.end())
      spec.value_name = std::string(it->second);
  }
}

std::vector<SettingSpec> build_table() {
  std::vector<SettingSpec> t;
  // --- the app ---
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
  // --- server socket ---
  {
    SettingSpec bind = make("bind", "-b,--bind",
                            "address to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH, fd://N "
                            "(repeatable; default 127.0.0.1:8000)",
                            Kind::Repeatable, apply_bind, show_bind);
    bind.clear = [](Settings& s) { s.bind.clear(); };
    t.push_back(std::move(bind));
  }
  t.push_back(integer("backlog", "--backlog", "pending connections per listener",
                      &Settings::backlog, 1, std::numeric_limits<int>::max()));
  t.push_back(boolean("reuse_port", "--reuse-port", "set SO_REUSEPORT on listeners",
                      &Settings::reuse_port));
  // --- workers ---
  const int kMaxInt = std::numeric_limits<int>::max();
  t.push_back(integer("workers", "-w,--workers", "number of worker processes", &Settings::workers,
                      1, kMaxInt));
  t.push_back(make("worker_class", "-k,--worker-class",
                   "worker type: gthread (sync runs as gthread)", Kind::Value, apply_worker_class,
                   [](const Settings& s) { return s.worker_class; }));
  t.push_back(integer("threads", "--threads", "concurrent app calls per worker", &Settings::threads,
                      1, 100000));
  t.push_back(integer("worker_connections", "--worker-connections", "open connections per worker",
                      &Settings::worker_connections, 1, kMaxInt));
  t.push_back(integer("max_requests", "--max-requests",
                      "restart a worker after this many requests (0 = never)",
                      &Settings::max_requests, 0, kMaxInt));
  t.push_back(integer("max_requests_jitter", "--max-requests-jitter",
                      "random extra requests added to --max-requests",
                      &Settings::max_requests_jitter, 0, kMaxInt));
  t.push_back(integer("timeout", "-t,--timeout",
                      "seconds a silent worker lives before it is killed (0 = never)",
                      &Settings::timeout, 0, kMaxInt));
  t.push_back(integer("graceful_timeout", "--graceful-timeout",
                      "seconds workers get to finish on restart/stop", &Settings::graceful_timeout,
                      0, kMaxInt));
  t.push_back(integer("keepalive", "--keep-alive",
                      "seconds to wait for the next request on a keep-alive connection",
                      &Settings::keepalive, 0, kMaxInt));
  // Per-request time limits (issue 13): seconds, 0 = off. Not gunicorn settings (gunicorn's
  // gthread has no per-request limit, #2086); --timeout keeps gunicorn's meaning.
  for (auto [name, flags, help, field] :
       {std::tuple{"request_timeout", "--request-timeout",
                   "seconds a request may run: then 504 (or close), its traceback logged, "
                   "worker_abort (0 = off)",
                   &Settings::request_timeout},
        std::tuple{"log_slow_requests", "--log-slow-requests",
                   "log a request still running after this many seconds, with its traceback "
                   "(0 = off)",
                   &Settings::log_slow_requests}}) {
    SettingSpec spec = make(
        name, flags, help, Kind::Value,
        [field](Settings& s, std::string_view text) -> std::string {
          auto value = parse_decimal(text);
          if (!value || !(*value >= 0) || *value > 1e9)
            return quoted(text) + " is not a number of seconds >= 0 (0 = off)";
          s.*field = *value;
          return {};
        },
        [field](const Settings& s) {
          auto text = std::to_string(s.*field);
          text.erase(text.find_last_not_of('0') + 1);
          if (text.back() == '.') text += '0';
          return text;
        });
    spec.value_name = "SECONDS";
    t.push_back(std::move(spec));
  }
  t.push_back(text("worker_tmp_dir", "--worker-tmp-dir", "directory for worker heartbeat files",
                   &Settings::worker_tmp_dir));
  t.push_back(text(
      "body_tmp_dir", "--body-tmp-dir",
      "directory where request bodies over 1 MiB are spilled (default: $TMPDIR, else /var/tmp)",
      &Settings::body_tmp_dir));
  t.push_back(byte_size(
      "max_body_memory", "--max-body-memory",
      "request-body bytes one worker holds in memory; more spill to --body-tmp-dir (K/M/G)",
      &Settings::max_body_memory));
  t.push_back(byte_size("max_body_disk", "--max-body-disk",
                        "request-body bytes one worker spills to disk; past it: 503, or 413 for "
                        "one larger body (K/M/G)",
                        &Settings::max_body_disk));
  // --- HTTP limits and proxies ---
  // Larger values are clamped with a warning after every source is applied (clamp_limits in
  // command_line.cpp), as gunicorn clamps them: configs with 8200 or 16384 start under gunicorn.
  t.push_back(integer("limit_request_line", "--limit-request-line",
                      "longest request line in bytes (0 or more than 8190 = 8190)",
                      &Settings::limit_request_line, 0, kMaxInt));
  t.push_back(integer("limit_request_fields", "--limit-request-fields",
                      "most header fields (0 or more than 32768 = 32768)",
                      &Settings::limit_request_fields, 0, kMaxInt));
  // gunicorn spells this flag with an underscore; both are accepted so a swapped-in command line
  // works.
  t.push_back(integer("limit_request_field_size",
                      "--limit-request-field-size,--limit-request-field_size",
                      "longest header field in bytes (0 = no limit beyond the maximum)",
                      &Settings::limit_request_field_size, 0, kMaxInt));
  t.push_back(make("limit_request_body", "--limit-request-body",
                   "largest request body in bytes (0 = no limit)", Kind::Value, apply_body_limit,
                   [](const Settings& s) { return std::to_string(s.limit_request_body); }));
  t.push_back(decimal("header_timeout", "--header-timeout",
                      "seconds for a whole request head to arrive", &Settings::header_timeout));
  t.push_back(decimal("body_timeout", "--body-timeout",
                      "seconds without a body byte before giving up", &Settings::body_timeout));
  t.push_back(boolean("permit_unconventional_http_method", "--permit-unconventional-http-method",
                      "accept lower-case and unusual methods",
                      &Settings::permit_unconventional_http_method));
  t.push_back(boolean("permit_obsolete_folding", "--permit-obsolete-folding",
                      "join obs-fold header lines instead of rejecting them",
                      &Settings::permit_obsolete_folding));
  t.push_back(boolean("strip_header_spaces", "--strip-header-spaces",
                      "tolerate spaces before a header colon", &Settings::strip_header_spaces));
  t.push_back(boolean("casefold_http_method", "--casefold-http-method",
                      "upper-case lower-case methods (with --permit-unconventional-http-method)",
                      &Settings::casefold_http_method));
  t.push_back(
      one_of("header_map", "--header-map",
             "header names with '_': drop (default), refuse with 400, or dangerous (map like '-')",
             &Settings::header_map, {"drop", "refuse", "dangerous"}));
  t.push_back(
      comma_list("forwarder_headers", "--forwarder-headers",
                 "headers with '_' that trusted forwarders may set (default SCRIPT_NAME,PATH_INFO)",
                 &Settings::forwarder_headers));
  t.push_back(address_list(
      "forwarded_allow_ips", "--forwarded-allow-ips",
      "front-end addresses or CIDR ranges trusted for X-Forwarded-* headers (comma list, * = all)",
      &Settings::forwarded_allow_ips));
  t.push_back(make("secure_scheme_headers", "",
                   "headers that mark a request as https: HEADER=VALUE, ...", Kind::Value,
                   apply_scheme_headers, show_scheme_headers));
  t.push_back(make("proxy_protocol", "--proxy-protocol",
                   "expect a PROXY protocol header: off, v1, v2 or auto (the bare flag means auto)",
                   Kind::Value, apply_proxy_protocol,
                   [](const Settings& s) { return s.proxy_protocol; }));
  t.push_back(
      address_list("proxy_allow_ips", "--proxy-allow-from",
                   "addresses or CIDR ranges allowed to send PROXY headers (comma list, * = all)",
                   &Settings::proxy_allow_ips));
  // --- TLS: gunicorn's SSL section (config/tls_settings.cpp) ---
  append_tls_settings(t);
  t.push_back(boolean("sendfile", "--no-sendfile", "do not use sendfile()", &Settings::sendfile,
                      Kind::NegatedFlag));
  // --- process ---
  t.push_back(boolean("daemon", "-D,--daemon", "detach from the terminal", &Settings::daemon));
  t.push_back(text("pidfile", "-p,--pid", "write the master pid to this file", &Settings::pidfile));
  t.push_back(text("user", "-u,--user", "run workers as this user (name or uid)", &Settings::user));
  t.push_back(
      text("group", "-g,--group", "run workers as this group (name or gid)", &Settings::group));
  t.push_back(make("umask", "-m,--umask",
                   "umask for files the server writes (octal 0022 or decimal)", Kind::Value,
                   apply_umask, [](const Settings& s) { return std::to_string(s.umask); }));
  t.push_back(boolean("initgroups", "--initgroups",
                      "set the worker's supplementary groups from --user", &Settings::initgroups));
  t.push_back(text("proc_name", "-n,--name", "process title base name", &Settings::proc_name));
  t.push_back(boolean("check_config", "--check-config",
                      "check the configuration and the app, then exit", &Settings::check_config));
  t.push_back(boolean("print_config", "--print-config",
                      "print the effective configuration, then exit", &Settings::print_config));
  // --- logging ---
  t.push_back(text("errorlog", "--error-logfile,--log-file", "error log file ('-' = stderr)",
                   &Settings::errorlog));
  t.push_back(one_of("loglevel", "--log-level", "error log level", &Settings::loglevel,
                     {"debug", "info", "warning", "error", "critical"}));
  t.push_back(text("accesslog", "--access-logfile", "access log file ('-' = stdout; unset = off)",
                   &Settings::accesslog));
  t.push_back(text("access_log_format", "--access-logformat",
                   "access log line format (gunicorn atoms)", &Settings::access_log_format));
  t.push_back(boolean("disable_redirect_access_to_syslog", "--disable-redirect-access-to-syslog",
                      "do not copy access lines to syslog",
                      &Settings::disable_redirect_access_to_syslog));
  t.push_back(boolean("capture_output", "--capture-output",
                      "send the app's stdout/stderr to the error log", &Settings::capture_output));
  t.push_back(boolean("enable_stdio_inheritance", "--enable-stdio-inheritance",
                      "keep stdio open in daemon mode", &Settings::enable_stdio_inheritance));
  t.push_back(boolean("syslog", "--log-syslog", "send the error log to syslog", &Settings::syslog));
  t.push_back(make("syslog_addr", "--log-syslog-to",
                   "syslog address: udp://HOST:PORT, tcp://HOST:PORT or unix://PATH (a datagram "
                   "socket, else a stream; #dgram: datagrams only)",
                   Kind::Value, apply_syslog_addr,
                   [](const Settings& s) { return s.syslog_addr; }));
  t.push_back(text("syslog_prefix", "--log-syslog-prefix", "program name in syslog lines",
                   &Settings::syslog_prefix));
  t.push_back(one_of("syslog_facility", "--log-syslog-facility",
                     "syslog facility: user, daemon, local0 to local7, ...",
                     &Settings::syslog_facility,
                     {"auth",   "authpriv", "cron",     "daemon", "ftp",    "kern",   "lpr",
                      "mail",   "news",     "security", "syslog", "user",   "uucp",   "local0",
                      "local1", "local2",   "local3",   "local4", "local5", "local6", "local7"}));
  t.push_back(make("statsd_host", "--statsd-host", "StatsD server HOST:PORT or unix:PATH",
                   Kind::Value, apply_statsd_host,
                   [](const Settings& s) { return py_string(s.statsd_host); }));
  t.push_back(text("statsd_prefix", "--statsd-prefix", "prefix for StatsD metric names",
                   &Settings::statsd_prefix));
  t.push_back(text("dogstatsd_tags", "--dogstatsd-tags", "comma list of DogStatsD tags",
                   &Settings::dogstatsd_tags));
  t.push_back(boolean(
      "enable_backlog_metric", "--enable-backlog-metric",
      "send the TCP listeners' accept-queue length to StatsD as gunicorn.backlog (gunicorn 24.1)",
      &Settings::enable_backlog_metric));
  // gunicorn's Python logging configuration: when set, records go through Python's logging
  // (wsgi/python_logging), applied as gunicorn's glogging.Logger.setup applies it.
  t.push_back(text("logconfig", "--log-config",
                   "logging.config.fileConfig INI file: records go to Python's "
                   "gunicorn.error and gunicorn.access loggers",
                   &Settings::logconfig));
  t.push_back(
      make("logconfig_dict", "", "logging.config.dictConfig dict (JSON text in an INI file)",
           Kind::Value, apply_logconfig_dict,
           [](const Settings& s) { return s.logconfig_dict.empty() ? "{}" : s.logconfig_dict; }));
  t.push_back(text("logconfig_json", "--log-config-json", "JSON file for logging.config.dictConfig",
                   &Settings::logconfig_json));
  t.push_back(make("logger_class", "--logger-class",
                   "a gunicorn.glogging.Logger subclass (module.Class) that formats the records",
                   Kind::Value, apply_logger_class, [](const Settings& s) {
                     return s.logger_class.empty() ? std::string("gunicorn.glogging.Logger")
                                                   : s.logger_class;
                   }));
  // --- gthreadd extensions ---
  t.push_back(make("cpu_affinity", "--cpu-affinity",
                   "pin worker N to the Nth CPU of this comma list", Kind::Value,
                   apply_cpu_affinity, show_cpu_affinity));
  // The master's Prometheus endpoint (metrics/master_metrics.hpp); the workers record into
  // the shared block (metrics/recorder.hpp). Parsed as --bind parses an address.
  t.push_back(make(
      "metrics_bind", "--metrics-bind",
      "serve Prometheus metrics at GET /metrics on this address (HOST:PORT, unix:PATH; off)",
      Kind::Value,
      [](Settings& s, std::string_view value) -> std::string {
        std::string error;
        auto address = parse_bind_address(trim(value), error);
        if (!address) return error;
        s.metrics_bind = std::move(*address);
        return {};
      },
      [](const Settings& s) { return s.metrics_bind ? s.metrics_bind->original : "None"; }));
  t.push_back(integer("max_worker_memory", "--max-worker-memory",
                      "replace a worker, successor first, when its RSS passes this many MiB "
                      "(0 = off)",
                      &Settings::max_worker_memory, 0, 1 << 22));
  // --- the control socket (gunicorn 25.1's control_socket, control_socket_mode and
  // control_socket_disable). gunicorn turns it on by default; gthreadd only when a path is
  // given (README, "Control socket"). ---
  t.push_back(text("control_socket", "--control-socket",
                   "unix socket for `gthreadd ctl` and gunicornc (unset: no control socket)",
                   &Settings::control_socket));
  t.back().value_name = "PATH";
  t.push_back(make(
      "control_socket_mode", "--control-socket-mode",
      "permissions of the control socket file (octal 0600 or 0o660, or decimal)", Kind::Value,
      [](Settings& s, std::string_view value) -> std::string {
        auto mode = parse_umask(value);
        if (!mode || *mode < 0 || *mode > 0777)
          return quoted(value) + " is not a file mode from 0 to 0777 (octal like 0600 or 0o660)";
        s.control_socket_mode = static_cast<int>(*mode);
        return {};
      },
      [](const Settings& s) { return std::to_string(s.control_socket_mode); }));
  t.back().value_name = "MODE";
  t.push_back(boolean("control_socket_disable", "--no-control-socket",
                      "do not create the control socket, even with --control-socket",
                      &Settings::control_socket_disable));
  name_values(t);
  return t;
}

std::string normalized(std::string_view name) {
  std::string out(trim(name));
  for (auto& c : out)
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::span<const SettingSpec> setting_table() {
  static const std::vector<SettingSpec> table = build_table();
  return table;
}

const SettingSpec* find_setting(std::string_view name) {
  const auto key = normalized(name);
  for (const auto& spec : setting_table()) {
    if (spec.name == key) return &spec;
  }
  return nullptr;
}

std::string display_flag(const SettingSpec& spec) {
  std::string best;
  for (const auto& flag : split_list(spec.flags)) {
    if (flag.size() > best.size()) best = flag;
  }
  return best.empty() ? std::string(spec.name) : best;
}

}  // namespace gthreadd::config
