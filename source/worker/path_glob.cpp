#include "gthreadd/worker/path_glob.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace gthreadd::worker {
namespace {

namespace fs = std::filesystem;

bool has_wildcard(const std::string& part) {
  return part.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> split_components(const std::string& pattern) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : pattern) {
    if (c == '/') {
      if (!part.empty()) parts.push_back(std::move(part));
      part.clear();
    } else {
      part.push_back(c);
    }
  }
  if (!part.empty()) parts.push_back(std::move(part));
  return parts;
}

// Entries of `dir` (not hidden), as Python's glob lists them for a wildcard component.
std::vector<fs::path> visible_entries(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(".")) out.push_back(dir / name);
  }
  return out;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p.empty() ? fs::path(".") : p, ec);
}

void match(const fs::path& dir, const std::vector<std::string>& parts, std::size_t i,
           std::vector<std::string>& out) {
  if (i == parts.size()) {
    std::error_code ec;
    if (fs::is_regular_file(dir, ec)) out.push_back(dir.string());
    return;
  }
  const std::string& part = parts[i];
  if (part == "**") {
    match(dir, parts, i + 1, out);  // zero directories
    for (const auto& entry : visible_entries(dir)) {
      if (is_dir(entry) && !fs::is_symlink(entry)) match(entry, parts, i, out);
    }
    return;
  }
  if (!has_wildcard(part)) {
    const fs::path next = dir / part;
    if (i + 1 == parts.size() || is_dir(next)) match(next, parts, i + 1, out);
    return;
  }
  // A leading '.' must be matched literally (FNM_PERIOD), and hidden entries are skipped
  // unless the component itself starts with '.', as in Python's glob.
  std::vector<fs::path> entries;
  if (part.starts_with(".")) {
    std::error_code ec;
    for (fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, ec), end; !ec && it != end;
         it.increment(ec))
      entries.push_back(dir / it->path().filename());
  } else {
    entries = visible_entries(dir);
  }
  for (const auto& entry : entries) {
    if (::fnmatch(part.c_str(), entry.filename().c_str(), FNM_PERIOD) == 0)
      match(entry, parts, i + 1, out);
  }
}

}  // namespace

bool is_glob_pattern(const std::string& entry) { return has_wildcard(entry); }

std::vector<std::string> expand_glob(const std::string& pattern) {
  std::vector<std::string> out;
  const auto parts = split_components(pattern);
  if (parts.empty()) return out;
  match(pattern.starts_with("/") ? fs::path("/") : fs::path(), parts, 0, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace gthreadd::worker
