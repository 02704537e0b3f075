#pragma once
// Executable invariants: ownership and state transitions that must hold for the design to
// work (docs/architecture.md). Active in Debug builds (NDEBUG undefined) and wherever
// GTHREADD_ASSERTIONS is defined (the sanitizer and ThreadSanitizer builds), so a broken
// hand-off fails loudly where it happens instead of as a use-after-free later; compiled out
// of Release builds, where the condition is not even evaluated (no cost on the hot path).
//
//   GTHREADD_ASSERT(conn->state == ConnState::Running, "returned a connection the pool did not
//   own");
#if !defined(NDEBUG) || defined(GTHREADD_ASSERTIONS)
#include <cstdio>
#include <cstdlib>

namespace gthreadd::core::detail {

[[noreturn]] inline void assertion_failed(const char* file, int line, const char* condition,
                                          const char* message) noexcept {
  std::fprintf(stderr, "%s:%d: assertion failed: %s: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace gthreadd::core::detail

#define GTHREADD_ASSERTIONS_ACTIVE 1
#define GTHREADD_ASSERT(cond, msg)                                                  \
  do {                                                                              \
    if (!(cond)) [[unlikely]]                                                       \
      ::gthreadd::core::detail::assertion_failed(__FILE__, __LINE__, #cond, (msg)); \
  } while (false)
#else
#define GTHREADD_ASSERTIONS_ACTIVE 0
// sizeof keeps the expression type-checked (and its variables "used") without evaluating it.
#define GTHREADD_ASSERT(cond, msg) \
  do {                             \
    (void)sizeof(!(cond));         \
    (void)sizeof(msg);             \
  } while (false)
#endif
