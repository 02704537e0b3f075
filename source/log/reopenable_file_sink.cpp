#include "gthreadd/log/reopenable_file_sink.hpp"

namespace gthreadd::log {

ReopenableFileSink::ReopenableFileSink(const std::string& path) { file_.open(path, false); }

bool ReopenableFileSink::reopen() {
  std::lock_guard lock(mutex_);
  try {
    file_.reopen(false);
    return true;
  } catch (const spdlog::spdlog_ex&) {
    return false;
  }
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  file_.write(line);
  file_.flush();
}

void ReopenableFileSink::flush_() { file_.flush(); }

}  // namespace gthreadd::log
