#pragma once
// Glob patterns in --reload-extra-file, as gunicorn 26.1 reads them: an entry containing
// '*', '?' or '[' is a pattern (Python's glob.glob(pattern, recursive=True)): '**' as a
// whole path component matches any number of directories, and wildcards do not match a
// leading '.' (hidden files), as in Python's glob.
#include <string>
#include <vector>

namespace gthreadd::worker {

[[nodiscard]] bool is_glob_pattern(const std::string& entry);

// The existing paths the pattern matches (relative patterns from the working directory),
// sorted; empty when nothing matches (yet).
[[nodiscard]] std::vector<std::string> expand_glob(const std::string& pattern);

}  // namespace gthreadd::worker
