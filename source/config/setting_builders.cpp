#include "gthreadd/config/setting_builders.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "gthreadd/config/value_parsers.hpp"
#include "gthreadd/core/address_matcher.hpp"

namespace gthreadd::config::builders {
namespace {

// 1.5 -> "1.5", 30 -> "30.0": Python's repr of a float, as --print-config shows it.
std::string seconds_text(double seconds) {
  auto text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text += '0';
  return text;
}

// Where a number of seconds must fall, and how a refusal names that range.
struct SecondsRange {
  double low;
  bool low_allowed;  // `low` itself is valid (else only values above it)
  double high;       // the largest valid value
  std::string_view form;
};

// The one SECONDS builder; decimal and seconds_or_off differ only in their range. NaN is
// refused by every range (both comparisons with `low` are false).
SettingSpec seconds(std::string_view name, std::string_view flags, std::string_view help,
                    double Settings::*field, SecondsRange range) {
  SettingSpec spec = make(
      name, flags, help, Kind::Value,
      [=, form = std::string(range.form)](Settings& s, std::string_view text) -> std::string {
        auto value = parse_decimal(text);
        const bool in_range = value &&
                              (*value > range.low || (range.low_allowed && *value == range.low)) &&
                              *value <= range.high;
        if (!in_range) return quoted(text) + " is not " + form;
        s.*field = *value;
        return {};
      },
      [=](const Settings& s) { return seconds_text(s.*field); });
  spec.value_name = "SECONDS";
  return spec;
}

}  // namespace

SettingSpec make(std::string_view name, std::string_view flags, std::string_view help, Kind kind,
                 Apply apply, Show show) {
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

std::string py_string(const std::string& text) { return text.empty() ? "None" : text; }
std::string py_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", '" : "'") + items[i] + "'";
  return out + "]";
}
std::string py_bool(bool value) { return value ? "True" : "False"; }

std::string lower_word(std::string_view value) {
  std::string word(trim(value));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return word;
}

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
  // Capped like the per-request limits: "inf" or 1e300 would overflow the deadline's
  // integer milliseconds (undefined behaviour) instead of meaning "never".
  return seconds(name, flags, help, field,
                 {0, false, 1e9, "a number of seconds > 0 (at most 1e9)"});
}

// Per-request time limits (issue 13): not gunicorn settings (gunicorn's gthread has no
// per-request limit, #2086), so 0 = off and at most 1e9 seconds.
SettingSpec seconds_or_off(std::string_view name, std::string_view flags, std::string_view help,
                           double Settings::*field) {
  return seconds(name, flags, help, field, {0, true, 1e9, "a number of seconds >= 0 (0 = off)"});
}

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
                    bool Settings::*field, Kind kind) {
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
                       std::function<std::string(std::string_view)> check) {
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
        const std::string word = lower_word(value);
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

}  // namespace gthreadd::config::builders
