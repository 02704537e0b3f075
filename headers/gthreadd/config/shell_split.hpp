#pragma once
// Splits GTHREADD_CMD_ARGS / GUNICORN_CMD_ARGS the way gunicorn does (Python's shlex.split):
// whitespace separates words, '...' is literal, "..." honours \" \\ \$ \`, a backslash
// outside quotes escapes the next character.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gthreadd::config {

// nullopt when a quote is left open or the text ends in a lone backslash.
std::optional<std::vector<std::string>> shell_split(std::string_view text);

}  // namespace gthreadd::config
