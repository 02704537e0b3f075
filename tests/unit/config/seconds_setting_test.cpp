#include <gtest/gtest.h>

#include <string>

#include "gthreadd/config/setting_table.hpp"

// The SECONDS rows (config/setting_builders.cpp): --header-timeout takes seconds > 0,
// --request-timeout seconds >= 0 where 0 is off, both at most 1e9 (an infinite header
// timeout overflowed the deadline arithmetic); each refusal names its range.
namespace gthreadd::config {
namespace {

std::string apply(std::string_view setting, std::string_view text, Settings& s) {
  const SettingSpec* spec = find_setting(setting);
  EXPECT_NE(spec, nullptr) << setting;
  return spec ? spec->apply(s, text) : "unknown setting";
}

TEST(SecondsSetting, PositiveSecondsRefusesZeroNegativeNanAndInfinity) {
  Settings s;
  EXPECT_EQ(apply("header_timeout", "2.5", s), "");
  EXPECT_DOUBLE_EQ(s.header_timeout, 2.5);
  EXPECT_EQ(apply("header_timeout", "0.001", s), "");
  EXPECT_DOUBLE_EQ(s.header_timeout, 0.001);
  for (const char* bad : {"0", "-1", "nan", "abc", "", "inf", "1e300", "1.5e9"})
    EXPECT_EQ(apply("header_timeout", bad, s),
              "'" + std::string(bad) + "' is not a number of seconds > 0 (at most 1e9)")
        << bad;
  EXPECT_DOUBLE_EQ(s.header_timeout, 0.001);  // a refused value changes nothing
}

TEST(SecondsSetting, SecondsOrOffTakesZeroAndRefusesPastTheCap) {
  Settings s;
  EXPECT_EQ(apply("request_timeout", "0", s), "");
  EXPECT_DOUBLE_EQ(s.request_timeout, 0);
  EXPECT_EQ(apply("request_timeout", "1e9", s), "");
  EXPECT_DOUBLE_EQ(s.request_timeout, 1e9);
  EXPECT_EQ(apply("log_slow_requests", "1.5", s), "");
  EXPECT_DOUBLE_EQ(s.log_slow_requests, 1.5);
  for (const char* bad : {"-0.5", "1.5e9", "nan", "x"})
    EXPECT_EQ(apply("request_timeout", bad, s),
              "'" + std::string(bad) + "' is not a number of seconds >= 0 (0 = off)")
        << bad;
  EXPECT_DOUBLE_EQ(s.request_timeout, 1e9);
}

}  // namespace
}  // namespace gthreadd::config
