#include "gthreadd/config/ini_file.hpp"

#include <ini.h>

#include <cstdio>
#include <memory>
#include <set>

#include "gthreadd/config/command_line.hpp"
#include "gthreadd/config/setting_table.hpp"
#include "gthreadd/config/value_parsers.hpp"

namespace gthreadd::config {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

struct ParseState {
  Settings* settings = nullptr;
  std::string path;
  std::FILE* file = nullptr;
  int line = 0;       // counted by read_line: inih's handler is not told the line
  std::string error;  // first error, with its line
  int error_line = 0;
  std::set<const SettingSpec*> cleared;
  bool found_section = false;
};

char* read_line(char* buffer, int size, void* user) {
  auto* state = static_cast<ParseState*>(user);
  char* got = std::fgets(buffer, size, state->file);
  if (got) ++state->line;
  return got;
}

bool our_section(std::string_view section) {
  std::string lower(section);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "gthreadd" || lower == "gunicorn";
}

int on_value(void* user, const char* section, const char* name, const char* value) {
  auto* state = static_cast<ParseState*>(user);
  if (!state->error.empty()) return 1;
  state->error_line = state->line;
  const std::string where = state->path + ":" + std::to_string(state->line) + ": ";
  if (*section == '\0') {
    state->error = where + "'" + name + "' is outside a [gthreadd] section";
    return 0;
  }
  if (!our_section(section)) return 1;
  state->found_section = true;
  const SettingSpec* spec = find_setting(name);
  if (spec == nullptr) {
    state->error =
        where + "unknown setting '" + name + "'" +
        (std::string_view(name) == "config" ? " (a config file cannot name another)" : "");
    return 0;
  }
  // Repeated keys (and inih's indented continuation lines) add up for list settings.
  if (spec->clear && state->cleared.insert(spec).second) spec->clear(*state->settings);
  std::string text(value);
  if (spec->kind == SettingSpec::Kind::Repeatable) {
    for (const auto& item : split_list(text)) {
      if (auto error = spec->apply(*state->settings, item); !error.empty()) {
        state->error = where + "setting '" + std::string(spec->name) + "': " + error;
        return 0;
      }
    }
    return 1;
  }
  if (auto error = spec->apply(*state->settings, text); !error.empty()) {
    state->error = where + "setting '" + std::string(spec->name) + "': " + error;
    return 0;
  }
  return 1;
}

}  // namespace

void apply_ini_file(Settings& settings, const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
  if (!file) throw ConfigError("cannot read config file '" + path + "'");
  ParseState state;
  state.settings = &settings;
  state.path = path;
  state.file = file.get();
  const int result = ini_parse_stream(read_line, &state, on_value, &state);
  if (!state.error.empty() && (result <= 0 || result >= state.error_line)) {
    throw ConfigError(state.error);
  }
  if (result > 0) {
    throw ConfigError(path + ":" + std::to_string(result) +
                      ": syntax error (expected [section], key = value or a comment)");
  }
  if (result < 0) throw ConfigError("cannot read config file '" + path + "'");
  if (!state.found_section) {
    throw ConfigError(path + ": no [gthreadd] (or [gunicorn]) section with settings");
  }
}

}  // namespace gthreadd::config
