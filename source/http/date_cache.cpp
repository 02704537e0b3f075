#include "gthreadd/http/date_cache.hpp"

#include <ctime>

namespace gthreadd::http {

namespace {

constexpr char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void put2(char* p, int v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// IMF-fixdate (RFC 9110 §5.6.7) built by hand: strftime's %a/%b follow LC_TIME, and the
// embedded Python app may change the locale.
void format_imf_fixdate(std::time_t t, char* out) noexcept {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char* p = out;
  for (int i = 0; i < 3; ++i) *p++ = kDays[tm.tm_wday][i];
  *p++ = ',';
  *p++ = ' ';
  put2(p, tm.tm_mday), p += 2;
  *p++ = ' ';
  for (int i = 0; i < 3; ++i) *p++ = kMonths[tm.tm_mon][i];
  *p++ = ' ';
  const int year = tm.tm_year + 1900;
  put2(p, year / 100), put2(p + 2, year % 100), p += 4;
  *p++ = ' ';
  put2(p, tm.tm_hour), p += 2;
  *p++ = ':';
  put2(p, tm.tm_min), p += 2;
  *p++ = ':';
  put2(p, tm.tm_sec), p += 2;
  for (char c : {' ', 'G', 'M', 'T'}) *p++ = c;
}

}  // namespace

// One cache per thread: no lock, and reformatted at most once a second per thread.
std::string_view http_date_now() {
  constexpr std::size_t kLen = 29;
  thread_local char buf[kLen];
  thread_local std::time_t cached = -1;
  const std::time_t now = std::time(nullptr);
  if (now != cached) {
    format_imf_fixdate(now, buf);
    cached = now;
  }
  return {buf, kLen};
}

}  // namespace gthreadd::http
