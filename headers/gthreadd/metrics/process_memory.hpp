#pragma once
// A process's resident set size, read from /proc/PID/statm (proc(5): the second field, in
// pages), as `ps -o rss` shows it.
#include <sys/types.h>

#include <cstdint>

namespace gthreadd::metrics {

// Bytes, or -1 when the process is gone or /proc cannot be read.
std::int64_t resident_bytes(pid_t pid);

}  // namespace gthreadd::metrics
