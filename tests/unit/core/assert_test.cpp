// Checks the active form of the macro, whatever the build type: the sanitizer builds turn
// it on with GTHREADD_ASSERTIONS exactly so.
#ifndef GTHREADD_ASSERTIONS
#define GTHREADD_ASSERTIONS 1
#endif
#include "gthreadd/core/assert.hpp"

#include <gtest/gtest.h>

namespace {

TEST(Assert, HoldsSilentlyAndEvaluatesOnce) {
  int evaluated = 0;
  GTHREADD_ASSERT(++evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(AssertDeathTest, FailureNamesFileConditionAndMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const int state = 2;
  EXPECT_DEATH(
      GTHREADD_ASSERT(state == 1, "connection not owned by the loop"),
      "assert_test.cpp:[0-9]+: assertion failed: state == 1: connection not owned by the loop");
}

}  // namespace
