#pragma once
// The access log file (--access-logfile; "-" = stdout): one write(2) per line on an
// O_APPEND descriptor, so lines from every worker and thread interleave whole.
#include <mutex>
#include <string>

#include "gthreadd/core/unique_fd.hpp"
#include "gthreadd/log/access_log_format.hpp"
#include "gthreadd/log/access_record.hpp"

namespace gthreadd::log {

class AccessLog {
 public:
  // Throws std::runtime_error naming the file if it cannot be opened, and
  // std::invalid_argument for a malformed format.
  AccessLog(const std::string& path, std::string_view format);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void log(const AccessRecord& record);
  // One preformatted line; a newline is added.
  void write_line(std::string_view line);
  // Re-opens the file on the same descriptor number (SIGUSR1); no-op for stdout.
  bool reopen();

  [[nodiscard]] const AccessLogFormat& format() const noexcept { return format_; }

 private:
  std::string path_;
  AccessLogFormat format_;
  core::UniqueFd file_;  // invalid for stdout
  int fd_ = 1;
};

// Re-opens every AccessLog alive in this process (called by reopen_logs()).
void reopen_access_logs();

}  // namespace gthreadd::log
