#pragma once
// The rows of the setting table (config/setting_table.hpp), one function per group of
// gunicorn's settings, each in its own file under source/config/ with the validation only
// its rows use. setting_table.cpp appends them in --help's order; gunicorn's SSL section
// is config/tls_settings.hpp. Start-up only.
#include <vector>

#include "gthreadd/config/setting_table.hpp"

namespace gthreadd::config {

// wsgi_app, chdir, pythonpath, virtualenv, raw_env, preload_app, reload*, paste, spew.
void append_app_settings(std::vector<SettingSpec>& table);
// bind, backlog, reuse_port.
void append_server_settings(std::vector<SettingSpec>& table);
// workers, worker_class, threads, ..., the per-request time limits and the body spill.
void append_worker_settings(std::vector<SettingSpec>& table);
// limit_request_*, header/body timeouts, header handling, forwarders and PROXY protocol.
void append_http_settings(std::vector<SettingSpec>& table);
// daemon, pidfile, user, group, umask, initgroups, proc_name, check_config, print_config.
void append_process_settings(std::vector<SettingSpec>& table);
// errorlog, loglevel, accesslog, access_log_format, capture_output, syslog*.
void append_log_settings(std::vector<SettingSpec>& table);
// statsd*, dogstatsd_tags, enable_backlog_metric, logconfig*, logger_class.
void append_log_config_settings(std::vector<SettingSpec>& table);
// gthreadd's own: cpu_affinity, metrics_bind, max_worker_memory, the control socket.
void append_extension_settings(std::vector<SettingSpec>& table);

}  // namespace gthreadd::config
