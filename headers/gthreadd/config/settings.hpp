#pragma once
// Every setting gthreadd understands, with gunicorn's name and default. One struct is the
// single place settings live: the CLI, INI/.py config files and env vars all fill it, the
// master and workers only read it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gthreadd/config/app_uri.hpp"
#include "gthreadd/config/bind_address.hpp"

namespace gthreadd::config {

struct Settings {
  // --- the app ---
  std::string app_uri_text;                     // APP_URI / wsgi_app as given
  AppUri app;                                   // parsed form
  std::string chdir;                            // --chdir (empty: stay)
  std::vector<std::string> pythonpath;          // --pythonpath, comma separated
  std::string virtualenv;                       // --virtualenv (else $VIRTUAL_ENV)
  std::vector<std::string> raw_env;             // -e/--env KEY=VALUE
  bool preload_app = false;                     // --preload
  bool reload = false;                          // --reload
  std::string reload_engine = "auto";           // --reload-engine auto|inotify|poll
  std::vector<std::string> reload_extra_files;  // files or glob patterns (gunicorn 26.1)
  std::string config_file;                      // -c/--config

  // --- server socket ---
  std::vector<BindAddress> bind;  // -b/--bind; default 127.0.0.1:8000
  int backlog = 2048;             // --backlog
  bool reuse_port = false;        // --reuse-port

  // --- worker processes ---
  int workers = 1;                       // -w/--workers
  std::string worker_class = "gthread";  // -k/--worker-class (gthread; sync runs as gthread)
  int threads = 1;                       // --threads
  int worker_connections = 1000;         // --worker-connections
  int max_requests = 0;                  // --max-requests (0 = never recycle)
  int max_requests_jitter = 0;           // --max-requests-jitter
  int timeout = 30;                      // -t/--timeout seconds (0 = no heartbeat timeout)
  int graceful_timeout = 30;             // --graceful-timeout seconds
  int keepalive = 2;                     // --keep-alive seconds
  // Per-request time limits (issue 13; gunicorn's gthread has none, benoitc/gunicorn #2086).
  double request_timeout = 0;  // --request-timeout seconds: 504 / close, worker_abort (0 = off)
  double log_slow_requests =
      0;                       // --log-slow-requests seconds: warn once with a traceback (0 = off)
  std::string worker_tmp_dir;  // --worker-tmp-dir (empty: /dev/shm when present)
  // Request bodies (gthreadd: gunicorn reads bodies in the app thread and has no spill).
  std::string body_tmp_dir;                     // --body-tmp-dir (empty: $TMPDIR, else /var/tmp)
  std::uint64_t max_body_memory = 64ull << 20;  // --max-body-memory: per worker, in RAM
  std::uint64_t max_body_disk = 2ull << 30;     // --max-body-disk: per worker, spilled

  // --- security / HTTP limits (gunicorn's defaults; 0 = maximum for the three limits) ---
  int limit_request_line = 8190;                  // --limit-request-line, 0..8190 (larger: clamped)
  int limit_request_fields = 100;                 // --limit-request-fields, 0..32768
  int limit_request_field_size = 8190;            // --limit-request-field-size
  std::uint64_t limit_request_body = 1ull << 30;  // --limit-request-body bytes (0 = no limit)
  double header_timeout = 10.0;  // --header-timeout seconds: whole head must arrive
  double body_timeout = 30.0;    // --body-timeout seconds without a body byte
  bool permit_unconventional_http_method = false;
  bool permit_obsolete_folding = false;
  bool strip_header_spaces = false;
  bool casefold_http_method = false;  // --casefold-http-method (gunicorn 22)
  std::string header_map = "drop";    // --header-map drop|refuse|dangerous (gunicorn 22)
  std::vector<std::string> forwarder_headers = {"SCRIPT_NAME", "PATH_INFO"};  // gunicorn 22
  std::vector<std::string> forwarded_allow_ips = {"127.0.0.1", "::1"};  // --forwarded-allow-ips
  std::map<std::string, std::string> secure_scheme_headers = {
      {"X-FORWARDED-PROTOCOL", "ssl"}, {"X-FORWARDED-PROTO", "https"}, {"X-FORWARDED-SSL", "on"}};
  std::string proxy_protocol = "off";  // --proxy-protocol off|v1|v2|auto (bare flag: auto)
  std::vector<std::string> proxy_allow_ips = {"127.0.0.1", "::1"};
  bool sendfile = true;  // --no-sendfile turns it off

  // --- TLS (gunicorn's SSL section; tls/ builds the OpenSSL context from it) ---
  // Set certfile and every listener serves TLS, as gunicorn wraps every socket when
  // cfg.is_ssl. do_handshake_on_connect is only reported (tls/server_tls, debug): the handshake
  // always runs in the event loop, before the first request is read, which is what either value
  // means to a client (README, "TLS").
  std::string certfile;              // --certfile (empty: plain HTTP)
  std::string keyfile;               // --keyfile (empty: the key is in certfile)
  std::string ca_certs;              // --ca-certs: CAs for client certificates
  std::string ciphers;               // --ciphers: OpenSSL cipher list for TLS <= 1.2
  int cert_reqs = 0;                 // --cert-reqs 0 none, 1 optional, 2 required
  int ssl_version = 0x0303;          // --ssl-version as a minimum: TLS 1.2 (0x0303) or 1.3
  bool suppress_ragged_eofs = true;  // a FIN without close_notify reads as a clean end
  bool do_handshake_on_connect = false;

  // --- process ---
  bool daemon = false;  // -D/--daemon
  std::string pidfile;  // -p/--pid
  std::string user;     // -u/--user
  std::string group;    // -g/--group
  int umask = 0;        // -m/--umask
  bool initgroups = false;
  std::string proc_name;      // -n/--name
  bool check_config = false;  // --check-config
  bool print_config = false;  // --print-config

  // --- logging ---
  std::string errorlog = "-";     // --error-logfile/--log-file ("-" = stderr)
  std::string loglevel = "info";  // --log-level
  std::string accesslog;          // --access-logfile (empty: off, "-" = stdout)
  std::string access_log_format = R"(%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")";
  bool disable_redirect_access_to_syslog = false;
  bool capture_output = false;
  bool enable_stdio_inheritance = false;
  bool syslog = false;  // --log-syslog
  std::string syslog_addr = "udp://localhost:514";
  std::string syslog_prefix;
  std::string syslog_facility = "user";
  std::string statsd_host;
  std::string statsd_prefix;
  std::string dogstatsd_tags;
  // Python logging configuration (wsgi/python_logging): when one is set, the error and
  // access records go to Python's "gunicorn.error" and "gunicorn.access" loggers.
  std::string logconfig;       // --log-config: a logging.config.fileConfig INI file
  std::string logconfig_dict;  // logconfig_dict, as JSON text (a .py dict is converted)
  std::string logconfig_json;  // --log-config-json: a JSON file for dictConfig
  // --logger-class: "module.Class" of a gunicorn.glogging.Logger subclass; empty for
  // gunicorn's defaults (gunicorn.glogging.Logger, simple, gunicorn.instrument.statsd.Statsd).
  std::string logger_class;
  bool enable_backlog_metric =
      false;  // --enable-backlog-metric: StatsD gunicorn.backlog (gunicorn 24.1)

  // --- gthreadd extensions ---
  std::vector<int> cpu_affinity;            // --cpu-affinity: pin worker N to a CPU from the list
  std::optional<BindAddress> metrics_bind;  // --metrics-bind: Prometheus /metrics endpoint (off)
  int max_worker_memory = 0;  // --max-worker-memory: MiB of RSS before a worker is replaced (0 off)

  // --- control socket (gunicorn 25.1's, for `gthreadd ctl` and gunicornc) ---
  std::string control_socket;           // --control-socket PATH; unset: no socket (see README)
  int control_socket_mode = 0600;       // --control-socket-mode
  bool control_socket_disable = false;  // --no-control-socket

  // Not a setting: what parse_settings adjusted (a limit clamped, as gunicorn clamps it),
  // logged once by the master when the error log is open.
  std::vector<std::string> config_warnings;
};

}  // namespace gthreadd::config
