#include "gthreadd/worker/heartbeat.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace gthreadd::worker {
namespace {

TEST(Heartbeat, StartsBootingUntilTheFirstBeat) {
  Heartbeat hb("/tmp");
  // A worker still importing its app must not be timed out by the master.
  EXPECT_TRUE(hb.booting());
  hb.beat();
  EXPECT_FALSE(hb.booting());
  EXPECT_LT(hb.seconds_since_beat(), 5.0);
}

TEST(Heartbeat, RetirementFlagIsSeenThroughTheSharedFd) {
  Heartbeat hb("/tmp");
  EXPECT_FALSE(hb.retirement_requested());
  hb.request_retirement();
  EXPECT_TRUE(hb.retirement_requested());
}

TEST(Heartbeat, FailsWithTheDirectoryNamedWhenItCannotCreateTheFile) {
  try {
    Heartbeat hb("/nonexistent/gthreadd-dir");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/gthreadd-dir"), std::string::npos)
        << e.what();
  }
}

TEST(Heartbeat, DefaultDirectoryIsATmpfsWhenThereIsOne) {
  const std::string dir = default_worker_tmp_dir();
  EXPECT_TRUE(dir == "/dev/shm" || dir == "/tmp") << dir;
}

}  // namespace
}  // namespace gthreadd::worker
