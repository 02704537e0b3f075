#include "gthreadd/log/gunicorn_formatter.hpp"

#include <spdlog/pattern_formatter.h>

#include <cstdlib>
#include <string_view>

namespace gthreadd::log {
namespace {

// Python logging's names; spdlog's trace has no gunicorn equivalent and shows as DEBUG.
class LevelNameFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kNames[] = {"DEBUG", "DEBUG",    "INFO",  "WARNING",
                                                  "ERROR", "CRITICAL", "NOTSET"};
    const auto name = kNames[static_cast<int>(msg.level)];
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelNameFlag>();
  }
};

// strftime's %z: "+0100", no colon.
class UtcOffsetFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm& tm,
              spdlog::memory_buf_t& dest) override {
    const long offset_minutes = tm.tm_gmtoff / 60;
    const long minutes = std::labs(offset_minutes);
    const char text[] = {offset_minutes < 0 ? '-' : '+', static_cast<char>('0' + minutes / 600),
                         static_cast<char>('0' + minutes / 60 % 10),
                         static_cast<char>('0' + minutes % 60 / 10),
                         static_cast<char>('0' + minutes % 10)};
    dest.append(text, text + sizeof text);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<UtcOffsetFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_gunicorn_formatter() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<UtcOffsetFlag>('*').add_flag<LevelNameFlag>('&').set_pattern(
      "[%Y-%m-%d %H:%M:%S %*] [%P] [%&] %v");
  return formatter;
}

}  // namespace gthreadd::log
