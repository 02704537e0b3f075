#pragma once
// APP_URI as gunicorn takes it: "module", "module:attr", "pkg.mod:obj.attr",
// "module:factory()", "module:factory('a', 1, key=True)" (literal arguments only).
#include <optional>
#include <string>
#include <string_view>

namespace gthreadd::config {

struct AppUri {
  std::string module;          // dotted module path
  std::string attribute;       // dotted attribute path; "application" when omitted
  bool is_call = false;        // "factory(...)"
  std::string call_arguments;  // raw text between the parentheses, evaluated with ast.literal_eval
  std::string original;
};

std::optional<AppUri> parse_app_uri(std::string_view text, std::string& error);

}  // namespace gthreadd::config
