#pragma once
// A synchronous spdlog file sink that can re-open its file (SIGUSR1 after logrotate moved
// it). spdlog's basic_file_sink cannot: its file_helper is private.
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>

namespace gthreadd::log {

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Opens `path` for appending; throws spdlog::spdlog_ex if it cannot.
  explicit ReopenableFileSink(const std::string& path);

  // Closes and re-opens the same path; returns false (old handle closed) if that fails.
  bool reopen();

 protected:
  // Every line is flushed at once: several processes append to the same file, and a
  // line held in a buffer could be lost by a worker that is killed.
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  spdlog::details::file_helper file_;
};

}  // namespace gthreadd::log
