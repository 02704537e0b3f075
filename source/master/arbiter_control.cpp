// The control socket's commands (gunicorn 25.1's gunicorn/ctl/handlers.py), run on the
// master's thread between two passes of its loop. What changes state goes the way the
// signal does: reload, reopen and shutdown queue HUP, USR1 and TERM (INT for "quick") to the
// master itself, as gunicorn's handlers do, so the answer is written before the action
// runs; `worker add|remove` change the target as TTIN/TTOU do (change_target), by N at once.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "gthreadd/config/command_line.hpp"
#include "gthreadd/master/arbiter.hpp"

namespace gthreadd::master {
namespace {

// `worker add` past this many workers is refused: a typo ("worker add 2000") would
// otherwise fork until the machine gives out.
constexpr int kMaxWorkers = 1024;

const char* const kCommands =
    "show workers, show stats, show config, show listeners, show all, worker add [N], "
    "worker remove [N], worker kill PID, reload, reopen, shutdown [graceful|quick], help";

ControlReply error_reply(std::string message) { return {false, {}, std::move(message)}; }

double rounded(double seconds) { return std::round(seconds * 100) / 100; }

// Seconds since `pid` started, from /proc (its start time in clock ticks after boot), so the
// master keeps no clock of its own per worker; nullopt when the process is gone.
std::optional<double> process_age(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i != 22) continue;
    double uptime = 0;
    std::ifstream("/proc/uptime") >> uptime;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return std::max(0.0, uptime - std::stod(field) / ticks);
  }
  return std::nullopt;
}

Json optional_seconds(std::optional<double> seconds) {
  return seconds ? Json(rounded(*seconds)) : Json(nullptr);
}

// "worker add 3": the count, 1 when absent, as gunicorn's handlers read it.
std::optional<int> count_argument(const std::vector<std::string>& words, std::string& error) {
  if (words.size() < 3) return 1;
  int n = 0;
  const auto& text = words[2];
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 1 || words.size() > 3) {
    error = "Invalid argument: '" + text + "' is not a count of workers (1 or more)";
    return std::nullopt;
  }
  return n;
}

}  // namespace

void Arbiter::open_control() {
  if (settings_.control_socket.empty() || settings_.control_socket_disable) return;
  ControlServer::Options options;
  options.path = settings_.control_socket;
  if (options.path.front() != '/') {
    // gunicorn's master has changed to --chdir before it binds; gthreadd's may not have.
    std::string base = settings_.chdir;
    if (base.empty() || base.front() != '/') {
      char cwd[4096];
      base = (::getcwd(cwd, sizeof cwd) ? std::string(cwd) : std::string(".")) +
             (base.empty() ? "" : "/" + base);
    }
    options.path = base + "/" + options.path;
  }
  options.mode = settings_.control_socket_mode;
  options.take_over = upgrade_.old_master() != 0;
  std::string error;
  control_ = ControlServer::open(options, error);
  // As gunicorn's "Control server error": the server serves on without its control socket.
  if (!control_) spdlog::error("Control server error: {}", error);
  else spdlog::info("Control socket listening at {}", control_->path());
}

ControlReply Arbiter::control(const std::vector<std::string>& words) {
  std::string cmd = words.at(0);
  std::transform(cmd.begin(), cmd.end(), cmd.begin(), ::tolower);
  const std::string target = words.size() > 1 ? words[1] : "";
  if (cmd == "show" && target == "workers") return {true, show_workers(), {}};
  if (cmd == "show" && target == "stats") return {true, show_stats(), {}};
  if (cmd == "show" && target == "config") return {true, show_config(), {}};
  if (cmd == "show" && target == "listeners") return {true, show_listeners(), {}};
  if (cmd == "show" && target == "all") {
    Json::Object all{{"arbiter", Json::Object{{"pid", static_cast<int>(::getpid())},
                                              {"type", "arbiter"},
                                              {"role", "master"}}}};
    const Json workers = show_workers();
    all.push_back({"web_workers", *workers.find("workers")});
    all.push_back({"web_worker_count", *workers.find("count")});
    all.push_back({"dirty_arbiter", nullptr});
    all.push_back({"dirty_workers", Json::Array{}});
    all.push_back({"dirty_worker_count", 0});
    return {true, Json(std::move(all)), {}};
  }
  if (cmd == "show")
    return error_reply(target.empty() ? "Missing show target (workers|stats|config|listeners|all)"
                                      : "Unknown show target: " + target);
  if (cmd == "worker") return worker_command(words);
  if (cmd == "dirty" || (cmd == "show" && target == "dirty"))
    return error_reply("gthreadd has no dirty arbiter (gunicorn 25's dirty workers)");
  if (cmd == "help") {
    Json::Object help;
    help.push_back({"commands", kCommands});
    return {true, Json(std::move(help)), {}};
  }
  int signo = 0;
  Json::Object data;
  if (cmd == "reload") {
    signo = SIGHUP;
    data.push_back({"status", "reloading"});
  } else if (cmd == "reopen") {
    signo = SIGUSR1;
    data.push_back({"status", "reopening"});
  } else if (cmd == "shutdown") {
    const std::string mode = target.empty() ? "graceful" : target;
    if (mode != "graceful" && mode != "quick")
      return error_reply("Invalid argument: shutdown takes graceful or quick, not '" + mode + "'");
    signo = mode == "quick" ? SIGINT : SIGTERM;
    data.push_back({"status", "shutting_down"});
    data.push_back({"mode", mode});
  } else {
    return error_reply("Unknown command: " + cmd + " (commands: " + kCommands + ")");
  }
  spdlog::info("Control: {}", cmd);
  // Queued to the signalfd: the loop acts on it at its next pass, after this answer is sent.
  ::kill(::getpid(), signo);
  return {true, Json(std::move(data)), {}};
}

ControlReply Arbiter::worker_command(const std::vector<std::string>& words) {
  const std::string action = words.size() > 1 ? words[1] : "";
  std::string error;
  if (action == "kill") {
    pid_t pid = 0;
    const std::string text = words.size() > 2 ? words[2] : "";
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
      return error_reply("Missing PID for worker kill");
    if (!table_.find(pid))
      return {
          true, Json::Object{{"success", false}, {"error", "Worker " + text + " not found"}}, {}};
    spdlog::info("Control: worker kill {}", pid);
    ::kill(pid, SIGTERM);  // it stops gracefully; the loop forks its replacement
    return {true, Json::Object{{"success", true}, {"killed", static_cast<int>(pid)}}, {}};
  }
  if (action != "add" && action != "remove")
    return error_reply(action.empty() ? "Missing worker action (add|remove|kill)"
                                      : "Unknown worker action: " + action);
  const auto count = count_argument(words, error);
  if (!count) return error_reply(error);
  const int previous = table_.target();
  if (action == "add") {
    if (*count > kMaxWorkers - previous)
      return error_reply("Invalid argument: more than " + std::to_string(kMaxWorkers) +
                         " workers is refused");
    spdlog::info("Control: worker add {}", *count);
    change_target(previous + *count);
    return {true,
            Json::Object{{"added", *count}, {"previous", previous}, {"total", table_.target()}},
            {}};
  }
  spdlog::info("Control: worker remove {}", *count);
  change_target(previous - *count);  // never below one, as TTOU
  return {true,
          Json::Object{{"removed", previous - table_.target()},
                       {"previous", previous},
                       {"total", table_.target()}},
          {}};
}

Json Arbiter::show_workers() const {
  std::vector<const WorkerTable::Worker*> by_age;
  for (const auto& [pid, w] : table_.workers()) by_age.push_back(&w);
  std::sort(by_age.begin(), by_age.end(), [](auto* a, auto* b) { return a->age < b->age; });
  Json::Array workers;
  for (const auto* w : by_age) {
    const auto& beat = *heartbeats_.at(w->pid);
    std::optional<std::uint64_t> requests;
    if (metrics_) requests = metrics_->requests_served(w->pid);
    workers.push_back(
        Json::Object{{"pid", static_cast<int>(w->pid)},
                     {"age", w->age},
                     {"booted", !beat.booting()},
                     {"aborted", w->aborted},
                     {"last_heartbeat",
                      beat.booting() ? Json(nullptr) : Json(rounded(beat.seconds_since_beat()))},
                     {"uptime", optional_seconds(process_age(w->pid))},
                     {"requests", requests ? Json(*requests) : Json(nullptr)},
                     {"stopping", w->stopping || w->retiring}});
  }
  const auto count = static_cast<int>(workers.size());
  return Json::Object{{"workers", std::move(workers)}, {"count", count}};
}

Json Arbiter::show_stats() const {
  const auto uptime = process_age(::getpid());
  const int spawned = table_.next_age() - 1;
  const auto current = static_cast<int>(table_.size());
  Json::Object stats{
      {"uptime", optional_seconds(uptime)},
      {"boot_time",
       uptime ? Json(static_cast<std::int64_t>(std::time(nullptr) - *uptime)) : Json(nullptr)},
      {"pid", static_cast<int>(::getpid())},
      {"workers_current", current},
      {"workers_target", table_.target()},
      {"workers_spawned", spawned},
      // gunicorn counts the TERMs and KILLs it sent; the master knows how many exited.
      {"workers_exited", spawned - current},
      {"reloads", static_cast<std::int64_t>(table_.generation())},
      {"dirty_arbiter_pid", nullptr},
  };
  stats.push_back({"workers", *show_workers().find("workers")});
  return Json(std::move(stats));
}

Json Arbiter::show_config() const {
  // --print-config's lines ("name = value", names padded), as a name -> value object.
  Json::Object config;
  std::istringstream lines(config::format_settings(settings_));
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    std::string name = line.substr(0, eq);
    name.erase(name.find_last_not_of(' ') + 1);
    config.push_back({std::move(name), line.substr(eq + 3)});
  }
  return Json(std::move(config));
}

Json Arbiter::show_listeners() const {
  Json::Array listeners;
  for (const auto& l : listeners_) {
    const bool unix_socket = l.address.kind == config::BindAddress::Kind::Unix;
    listeners.push_back(Json::Object{
        {"address", l.url()}, {"fd", l.fd.get()}, {"type", unix_socket ? "unix" : "tcp"}});
  }
  const auto count = static_cast<int>(listeners.size());
  return Json::Object{{"listeners", std::move(listeners)}, {"count", count}};
}

}  // namespace gthreadd::master
