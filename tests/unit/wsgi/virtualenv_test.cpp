#include <gtest/gtest.h>

#include <filesystem>

#include "gthreadd/wsgi/interpreter.hpp"
#include "gthreadd/wsgi/virtualenv.hpp"

namespace gthreadd::wsgi {
namespace {

TEST(Virtualenv, MissingVenvIsAClearError) {
  config::Settings s;
  s.virtualenv = "/nonexistent/venv-for-gthreadd-test";
  try {
    virtualenv_site_packages(s);
    FAIL() << "no error";
  } catch (const AppLoadError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/venv-for-gthreadd-test"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("python3.11/site-packages"), std::string::npos);
  }
}

TEST(Virtualenv, SitePackagesOfAnExistingVenv) {
  const auto venv = std::filesystem::path(::testing::TempDir()) / "gthreadd-venv-test";
  std::filesystem::create_directories(venv / "lib/python3.11/site-packages");
  config::Settings s;
  s.virtualenv = venv.string();
  const auto site = virtualenv_site_packages(s);
  ASSERT_TRUE(site.has_value());
  EXPECT_EQ(*site, (venv / "lib/python3.11/site-packages").lexically_normal().string());
  std::filesystem::remove_all(venv);
}

TEST(Virtualenv, EnvironmentVariableIsTheFallback) {
  config::Settings s;
  ::setenv("VIRTUAL_ENV", "/nonexistent/from-env", 1);
  EXPECT_THROW(virtualenv_site_packages(s), AppLoadError);
  ::unsetenv("VIRTUAL_ENV");
  EXPECT_FALSE(virtualenv_site_packages(s).has_value());
}

}  // namespace
}  // namespace gthreadd::wsgi
