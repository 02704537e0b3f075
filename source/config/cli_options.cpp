#include "gthreadd/config/cli_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <deque>
#include <iostream>

#include "gthreadd/config/command_line.hpp"

namespace gthreadd::config {
namespace {

struct Bound {
  const SettingSpec* spec;
  CLI::Option* option;
  std::vector<std::string> values;
};

// gunicorn 24.1's --proxy-protocol takes an optional value (argparse nargs='?', const
// 'auto'). CLI11 (and argparse) would take whatever follows, the APP_URI included, so a bare
// flag becomes --proxy-protocol=auto unless the next word is one of its values, or looks
// like a version ("v3"), which is then refused with the accepted values.
void expand_bare_proxy_protocol(std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] != "--proxy-protocol") continue;
    std::string next = i + 1 < args.size() ? args[i + 1] : "";
    std::transform(next.begin(), next.end(), next.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool version =
        next.size() > 1 && next[0] == 'v' &&
        std::all_of(next.begin() + 1, next.end(), [](unsigned char c) { return std::isdigit(c); });
    if (next != "off" && next != "auto" && !version) args[i] = "--proxy-protocol=auto";
  }
}

// "67108864" -> "64M", as --max-body-memory takes it; a size that is no whole K, M or G stays.
std::string with_unit(const std::string& bytes) {
  std::uint64_t value = std::stoull(bytes);
  const char* units = "KMG";
  std::string unit;
  for (int i = 0; i < 3 && value >= 1024 && value % 1024 == 0; ++i) {
    value /= 1024;
    unit = std::string(1, units[i]);
  }
  return std::to_string(value) + unit;
}

// "384" -> "0600": a file mode or umask in the octal form it is written in, as gunicorn's
// docs show control_socket_mode's default (--print-config keeps the int, as gunicorn's does).
std::string as_octal_mode(const std::string& decimal) {
  unsigned long mode = std::stoul(decimal);
  std::string digits;
  for (; mode != 0; mode /= 8) digits.insert(digits.begin(), static_cast<char>('0' + mode % 8));
  return "0" + digits;
}

// --help's "[default: X]" from what --print-config shows for an untouched Settings, in the
// form the flag takes ("127.0.0.1,::1", not Python's list repr). Nothing for flags (off
// unless given), for empty values, or when the help text already names the default.
std::string default_note(const SettingSpec& spec) {
  if (spec.kind == SettingSpec::Kind::Flag || spec.kind == SettingSpec::Kind::NegatedFlag)
    return {};
  if (spec.help.find("default") != std::string::npos) return {};
  std::string shown = spec.show(Settings{});
  if (shown.size() >= 2 && shown.front() == '[' && shown.back() == ']') {
    shown = shown.substr(1, shown.size() - 2);
    std::erase(shown, '\'');
    std::erase(shown, ' ');
  }
  if (shown.empty() || shown == "None") return {};
  if (spec.value_name == "SIZE") shown = with_unit(shown);
  if (spec.value_name == "MODE") shown = as_octal_mode(shown);
  return "  [default: " + shown + "]";
}

// Refused gunicorn settings are accepted by the parser, so the refusal names the setting and
// why, but --help lists only what works (issue 14); they are named once in the footer.
std::string refused_footer() {
  std::string flags;
  for (const auto& spec : setting_table()) {
    if (spec.refused && !spec.flags.empty())
      flags += (flags.empty() ? "" : ", ") + display_flag(spec);
  }
  if (flags.empty()) return {};
  // Wrapped at 100 columns, as the option lines are.
  std::string text =
      "gunicorn options gthreadd refuses, with a message saying why (not supported):";
  std::size_t line_start = 0;
  for (std::size_t pos = 0, next; pos < flags.size(); pos = next + 1) {
    next = std::min(flags.find(' ', pos), flags.size());
    if (text.size() - line_start + next - pos + 1 > 100) {
      // Indented past an option line's two spaces, so no continuation reads as an option.
      text += "\n   ";
      line_start = text.size() - 3;
    }
    text += " " + flags.substr(pos, next - pos);
  }
  return text + ".";
}

// One CLI11 option per setting that has flags, in the table's order (--help's).
void add_setting_options(CLI::App& app, std::deque<Bound>& bound) {
  for (const auto& spec : setting_table()) {
    if (spec.flags.empty()) continue;
    auto& b = bound.emplace_back(Bound{&spec, nullptr, {}});
    const std::string flags(spec.flags);
    const std::string help = spec.help + default_note(spec);
    if (spec.kind == SettingSpec::Kind::Flag || spec.kind == SettingSpec::Kind::NegatedFlag) {
      b.option = app.add_flag(flags, help);
    } else {
      // One value per occurrence: "-b a app:app" must not swallow the APP_URI.
      b.option = app.add_option(flags, b.values, help)
                     ->allow_extra_args(false)
                     ->multi_option_policy(spec.kind == SettingSpec::Kind::Repeatable
                                               ? CLI::MultiOptionPolicy::TakeAll
                                               : CLI::MultiOptionPolicy::TakeLast);
      // The value's kind, instead of CLI11's "TEXT ..." (every value is bound as a string list).
      b.option->option_text(spec.value_name);
    }
    if (spec.refused) b.option->group("");  // hidden from --help; see refused_footer()
  }
}

// The given options as assignments, in the table's order, each saying where it came from.
void collect_assignments(const std::deque<Bound>& bound, const std::string& prefix,
                         CliValues& out) {
  for (const auto& b : bound) {
    if (b.option->count() == 0) continue;
    const std::string where = prefix + display_flag(*b.spec);
    switch (b.spec->kind) {
      case SettingSpec::Kind::Flag: out.assignments.push_back({b.spec, "true", where}); break;
      case SettingSpec::Kind::NegatedFlag:
        out.assignments.push_back({b.spec, "false", where});
        break;
      default:
        for (const auto& value : b.values) out.assignments.push_back({b.spec, value, where});
    }
  }
}

}  // namespace

CliValues parse_cli(std::vector<std::string> args, std::string_view origin) {
  CLI::App app{"gthreadd: a pre-forking threaded WSGI HTTP server, drop-in for gunicorn -k gthread",
               "gthreadd"};
  app.set_version_flag("-v,--version", "gthreadd (version " GTHREADD_VERSION ")");
  app.get_formatter()->column_width(44);

  CliValues out;
  std::string app_uri;
  app.add_option("-c,--config", out.config_file,
                 "config file: INI ([gthreadd] section) or gunicorn.conf.py")
      ->option_text("FILE");
  app.add_option("APP_URI", app_uri, "the WSGI app: MODULE, MODULE:NAME or MODULE:FACTORY(args)")
      ->option_text("MODULE[:NAME]");

  std::deque<Bound> bound;  // stable addresses: CLI11 keeps pointers to `values`
  add_setting_options(app, bound);
  app.footer(refused_footer());

  expand_bare_proxy_protocol(args);
  std::reverse(args.begin(), args.end());  // CLI11's vector overload expects them reversed
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    out.exit = true;
    out.exit_code = app.exit(e, std::cout, std::cerr);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.exit = true;
    out.exit_code = app.exit(e, std::cout, std::cerr);
    return out;
  } catch (const CLI::ParseError& e) {
    throw ConfigError(std::string(origin) + ": " + e.what() + " (see gthreadd --help)");
  }

  const std::string prefix = std::string(origin) + ": ";
  collect_assignments(bound, prefix, out);
  if (!app_uri.empty())
    out.assignments.push_back({find_setting("wsgi_app"), app_uri, prefix + "APP_URI"});
  return out;
}

}  // namespace gthreadd::config
