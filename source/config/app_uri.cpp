#include "gthreadd/config/app_uri.hpp"

namespace gthreadd::config {
namespace {

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // non-ASCII identifiers (PEP 3131)
}
bool is_identifier_char(char c) { return is_identifier_start(c) || (c >= '0' && c <= '9'); }

// "a.b.c": identifiers separated by single dots.
bool is_dotted_name(std::string_view text) {
  if (text.empty()) return false;
  bool at_start = true;
  for (char c : text) {
    if (c == '.') {
      if (at_start) return false;
      at_start = true;
    } else if (at_start ? is_identifier_start(c) : is_identifier_char(c)) {
      at_start = false;
    } else {
      return false;
    }
  }
  return !at_start;
}

// Index of the ')' matching the '(' at `open`, skipping quoted strings; npos if unbalanced.
std::size_t matching_paren(std::string_view text, std::size_t open) {
  int depth = 0;
  char quote = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    else if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return c == ')' ? i : std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

std::optional<AppUri> fail(std::string& error, std::string_view text, std::string_view why) {
  error = "invalid APP_URI '" + std::string(text) + "': " + std::string(why) +
          "; expected MODULE, MODULE:NAME, MODULE:NAME.ATTR or MODULE:FACTORY(literal args)";
  return std::nullopt;
}

}  // namespace

// gunicorn's util.import_app: the module part runs up to the first ':' (a module name cannot
// contain one, call arguments can), the object defaults to "application", and a call must
// name a plain function whose arguments are Python literals (checked later by ast.literal_eval).
std::optional<AppUri> parse_app_uri(std::string_view text, std::string& error) {
  AppUri out;
  out.original = std::string(text);
  const auto colon = text.find(':');
  const std::string_view module = text.substr(0, colon);
  if (!is_dotted_name(module)) return fail(error, text, "the module is not a dotted Python name");
  out.module = std::string(module);
  if (colon == std::string_view::npos) {
    out.attribute = "application";
    return out;
  }
  std::string_view object = text.substr(colon + 1);
  if (object.empty()) return fail(error, text, "nothing after ':'");
  if (const auto open = object.find('('); open != std::string_view::npos) {
    const auto close = matching_paren(object, open);
    if (close == std::string_view::npos) return fail(error, text, "unbalanced parentheses");
    if (close + 1 != object.size()) return fail(error, text, "text after the call's ')'");
    const auto name = object.substr(0, open);
    if (!is_dotted_name(name) || name.find('.') != std::string_view::npos) {
      return fail(error, text, "a factory call must name a plain function");
    }
    out.attribute = std::string(name);
    out.is_call = true;
    out.call_arguments = std::string(object.substr(open + 1, close - open - 1));
    return out;
  }
  if (!is_dotted_name(object)) return fail(error, text, "the object is not a dotted Python name");
  out.attribute = std::string(object);
  return out;
}

}  // namespace gthreadd::config
