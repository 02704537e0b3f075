#include "gthreadd/config/app_uri.hpp"

#include <gtest/gtest.h>

namespace gthreadd::config {
namespace {

struct GoodUri {
  const char* text;
  const char* module;
  const char* attribute;
  bool is_call;
  const char* arguments;
};

class GoodUriTest : public testing::TestWithParam<GoodUri> {};

TEST_P(GoodUriTest, Parses) {
  const auto& c = GetParam();
  std::string error;
  auto uri = parse_app_uri(c.text, error);
  ASSERT_TRUE(uri) << error;
  EXPECT_EQ(uri->module, c.module);
  EXPECT_EQ(uri->attribute, c.attribute);
  EXPECT_EQ(uri->is_call, c.is_call);
  EXPECT_EQ(uri->call_arguments, c.arguments);
  EXPECT_EQ(uri->original, c.text);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, GoodUriTest,
    testing::Values(GoodUri{"app", "app", "application", false, ""},
                    GoodUri{"myproject.wsgi", "myproject.wsgi", "application", false, ""},
                    GoodUri{"app:app", "app", "app", false, ""},
                    GoodUri{"pkg.mod:obj.wsgi_app", "pkg.mod", "obj.wsgi_app", false, ""},
                    GoodUri{"app:create_app()", "app", "create_app", true, ""},
                    GoodUri{"app:create_app('prod', debug=False)", "app", "create_app", true,
                            "'prod', debug=False"},
                    GoodUri{"app:make({'a': (1, 2)}, x=')')", "app", "make", true,
                            "{'a': (1, 2)}, x=')'"}));

class BadUriTest : public testing::TestWithParam<const char*> {};

TEST_P(BadUriTest, IsRefused) {
  std::string error;
  EXPECT_FALSE(parse_app_uri(GetParam(), error));
  EXPECT_NE(error.find("MODULE:NAME"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(Forms, BadUriTest,
                         testing::Values("", ":app", "app:", "app:1x", "my-app:app", "app..x:a",
                                         ".app", "app:f(", "app:f())", "app:f() .x", "app:obj.f()",
                                         "app:a b", "app:f(']')x"));

}  // namespace
}  // namespace gthreadd::config
