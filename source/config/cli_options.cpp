#include "gthreadd/config/cli_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
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
    const bool version = next.size() > 1 && next[0] == 'v' &&
                         std::all_of(next.begin() + 1, next.end(), [](unsigned char c) { return std::isdigit(c); });
    if (next != "off" && next != "auto" && !version) args[i] = "--proxy-protocol=auto";
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
  app.add_option("-c,--config", out.config_file, "config file: INI ([gthreadd] section) or gunicorn.conf.py");
  app.add_option("APP_URI", app_uri, "the WSGI app: MODULE, MODULE:NAME or MODULE:FACTORY(args)");

  std::deque<Bound> bound;  // stable addresses: CLI11 keeps pointers to `values`
  for (const auto& spec : setting_table()) {
    if (spec.flags.empty()) continue;
    auto& b = bound.emplace_back(Bound{&spec, nullptr, {}});
    const std::string flags(spec.flags);
    const std::string& help = spec.help;
    if (spec.kind == SettingSpec::Kind::Flag || spec.kind == SettingSpec::Kind::NegatedFlag) {
      b.option = app.add_flag(flags, help);
    } else {
      // One value per occurrence: "-b a app:app" must not swallow the APP_URI.
      b.option = app.add_option(flags, b.values, help)
                     ->allow_extra_args(false)
                     ->multi_option_policy(spec.kind == SettingSpec::Kind::Repeatable
                                               ? CLI::MultiOptionPolicy::TakeAll
                                               : CLI::MultiOptionPolicy::TakeLast);
    }
  }

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
  for (const auto& b : bound) {
    if (b.option->count() == 0) continue;
    const std::string where = prefix + display_flag(*b.spec);
    switch (b.spec->kind) {
      case SettingSpec::Kind::Flag:
        out.assignments.push_back({b.spec, "true", where});
        break;
      case SettingSpec::Kind::NegatedFlag:
        out.assignments.push_back({b.spec, "false", where});
        break;
      default:
        for (const auto& value : b.values) out.assignments.push_back({b.spec, value, where});
    }
  }
  if (!app_uri.empty()) out.assignments.push_back({find_setting("wsgi_app"), app_uri, prefix + "APP_URI"});
  return out;
}

}  // namespace gthreadd::config
