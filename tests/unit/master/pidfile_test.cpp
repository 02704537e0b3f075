#include "gthreadd/master/pidfile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gthreadd::master {
namespace {

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          (std::string("gthreadd-") + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Pidfile, WritesThePidAndRemovesItOnExit) {
  const std::string path = temp_path("a.pid");
  {
    Pidfile p;
    p.create(path, 4242);
    EXPECT_EQ(read_all(path), "4242\n");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Pidfile, NeverRemovesASuccessorsFile) {
  // USR2: the new master may have written its pid by the time the old one exits.
  const std::string path = temp_path("b.pid");
  {
    Pidfile p;
    p.create(path, 4242);
    std::ofstream(path) << "5151\n";
  }
  EXPECT_EQ(read_all(path), "5151\n");
  std::filesystem::remove(path);
}

TEST(Pidfile, RenameMovesThePromotedFile) {
  const std::string two = temp_path("c.pid.2");
  const std::string one = temp_path("c.pid");
  Pidfile p;
  p.create(two, 77);
  p.rename(one);
  EXPECT_FALSE(std::filesystem::exists(two));
  EXPECT_EQ(read_all(one), "77\n");
  p.unlink();
  EXPECT_FALSE(std::filesystem::exists(one));
}

TEST(Pidfile, UnwritableLocationIsAnErrorNamingThePath) {
  Pidfile p;
  EXPECT_THROW(p.create("/nonexistent-dir/x.pid", 1), std::runtime_error);
}

}  // namespace
}  // namespace gthreadd::master
