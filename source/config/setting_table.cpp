#include "gthreadd/config/setting_table.hpp"

#include <cctype>
#include <map>
#include <vector>

#include "gthreadd/config/setting_builders.hpp"
#include "gthreadd/config/setting_groups.hpp"
#include "gthreadd/config/tls_settings.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {
namespace {

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
  // In --help's order (and the README's settings table's).
  append_app_settings(t);
  append_server_settings(t);
  append_worker_settings(t);
  append_http_settings(t);
  // TLS: gunicorn's SSL section (config/tls_settings.cpp).
  append_tls_settings(t);
  t.push_back(builders::boolean("sendfile", "--no-sendfile", "do not use sendfile()",
                                &Settings::sendfile, SettingSpec::Kind::NegatedFlag));
  append_process_settings(t);
  append_log_settings(t);
  append_log_config_settings(t);
  append_extension_settings(t);
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
