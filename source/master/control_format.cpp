#include "gthreadd/master/control_format.hpp"

#include <cctype>
#include <cstdio>
#include <sstream>

namespace gthreadd::master {
namespace {

std::string field(const Json& object, const char* key, const char* missing = "?") {
  const Json* v = object.find(key);
  return v && !v->is_null() ? v->text() : missing;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string seconds_text(const Json* v) {
  if (!v || v->is_null()) return "n/a";
  return v->text() + "s";
}

std::string format_workers(const Json& data) {
  const Json* workers = data.find("workers");
  if (!workers || !workers->array() || workers->array()->empty()) return "No workers running";
  std::ostringstream out;
  out << pad("PID", 10) << ' ' << pad("AGE", 6) << ' ' << pad("BOOTED", 8) << ' '
      << pad("LAST_BEAT", 12) << ' ' << pad("UPTIME", 10) << ' ' << "REQUESTS\n"
      << std::string(58, '-') << '\n';
  for (const auto& w : *workers->array()) {
    const Json* booted = w.find("booted");
    const Json* beat = w.find("last_heartbeat");
    out << pad(field(w, "pid"), 10) << ' ' << pad(field(w, "age"), 6) << ' '
        << pad(booted && booted->boolean() && *booted->boolean() ? "yes" : "no", 8) << ' '
        << pad(beat && !beat->is_null() ? beat->text() + "s ago" : "n/a", 12) << ' '
        << pad(seconds_text(w.find("uptime")), 10) << ' ' << field(w, "requests", "n/a") << '\n';
  }
  out << "\nTotal: " << workers->array()->size() << " workers";
  return out.str();
}

std::string uptime_text(const Json* v) {
  const double* real = v ? v->real() : nullptr;
  const std::int64_t* integer = v ? v->integer() : nullptr;
  if (!real && !integer) return "unknown";
  const auto total = static_cast<long>(real ? *real : static_cast<double>(*integer));
  const long h = total / 3600, m = (total % 3600) / 60, s = total % 60;
  if (h) return std::to_string(h) + "h " + std::to_string(m) + "m " + std::to_string(s) + "s";
  if (m) return std::to_string(m) + "m " + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

std::string format_stats(const Json& data) {
  std::ostringstream out;
  out << "Uptime:           " << uptime_text(data.find("uptime")) << '\n'
      << "PID:              " << field(data, "pid", "unknown") << '\n'
      << "Workers current:  " << field(data, "workers_current", "0") << '\n'
      << "Workers target:   " << field(data, "workers_target", "0") << '\n'
      << "Workers spawned:  " << field(data, "workers_spawned", "0") << '\n'
      << "Workers exited:   " << field(data, "workers_exited", "0") << '\n'
      << "Reloads:          " << field(data, "reloads", "0");
  if (const Json* workers = data.find("workers"); workers && workers->array()) {
    out << "\n\n" << format_workers(data);
  }
  return out.str();
}

std::string format_listeners(const Json& data) {
  const Json* listeners = data.find("listeners");
  if (!listeners || !listeners->array() || listeners->array()->empty()) return "No listeners bound";
  std::ostringstream out;
  out << pad("ADDRESS", 40) << ' ' << pad("TYPE", 8) << " FD\n" << std::string(55, '-') << '\n';
  for (const auto& l : *listeners->array())
    out << pad(field(l, "address"), 40) << ' ' << pad(field(l, "type"), 8) << ' ' << field(l, "fd")
        << '\n';
  out << "\nTotal: " << field(data, "count") << " listeners";
  return out.str();
}

std::string format_config(const Json& data) {
  std::ostringstream out;
  if (const auto* members = data.object()) {
    for (std::size_t i = 0; i < members->size(); ++i)
      out << (i ? "\n" : "") << (*members)[i].key << ": " << (*members)[i].value.text();
  }
  return out.str();
}

std::string format_help(const Json& data) {
  return "Available commands: " + field(data, "commands", "");
}

std::string normalized(const std::string& command) {
  std::string out;
  bool space = false;
  for (const char c : command) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ', space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string format_answer(const std::string& command, const Json& data) {
  const std::string cmd = normalized(command);
  if (cmd == "show workers") return format_workers(data);
  if (cmd == "show stats") return format_stats(data);
  if (cmd == "show listeners") return format_listeners(data);
  if (cmd == "show config") return format_config(data);
  if (cmd == "help") return format_help(data);
  const auto* members = data.object();
  if (members && members->empty()) return "OK";
  return data.dump(2);
}

}  // namespace gthreadd::master
