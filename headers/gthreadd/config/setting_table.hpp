#pragma once
// The one table of settings: gunicorn's setting name (INI key, --print-config name), its
// command-line flags, and how a textual value is validated and stored. The command line,
// GTHREADD_CMD_ARGS, INI files and --print-config are all driven from it, so a setting
// cannot be known to one source and missing from another.
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "gthreadd/config/settings.hpp"

namespace gthreadd::config {

struct SettingSpec {
  enum class Kind {
    Value,        // one value; a later one replaces it
    Repeatable,   // -b a -b b: values add up within one source; a later source replaces
    Flag,         // --preload: sets the boolean; config files take true/false/yes/no/...
    NegatedFlag,  // --no-sendfile: clears the boolean
  };
  std::string_view name;
  std::string_view flags;  // CLI11 names, e.g. "-w,--workers"; empty: config files only
  std::string help;
  // What --help shows for the value ("INT", "SECONDS", "{drop,refuse,dangerous}"): the
  // builders set the kind's name, setting_table.cpp names the rest (name_values()).
  std::string value_name = "TEXT";
  Kind kind = Kind::Value;
  // Stores one textual value; returns an empty string, or why the value is refused and the
  // accepted form (the caller adds where the value came from).
  std::function<std::string(Settings&, std::string_view)> apply;
  std::function<std::string(const Settings&)> show;  // --print-config value
  std::function<void(Settings&)> clear;              // Repeatable: before a source's first value
  bool refused = false;                              // known gunicorn setting gthreadd refuses
};

std::span<const SettingSpec> setting_table();
// By gunicorn name; '-' and '_' are interchangeable, case-insensitive. nullptr if unknown.
const SettingSpec* find_setting(std::string_view name);

// The longest CLI flag ("--workers"), or the setting name when it has none.
std::string display_flag(const SettingSpec& spec);

}  // namespace gthreadd::config
