#pragma once
#include <cstddef>
#include <cstdint>

namespace gthreadd::http {

// Resolved limits (0 in a gunicorn setting is already turned into its maximum here).
struct ParseLimits {
  std::size_t request_line = 4094;     // longer → 414
  std::size_t fields = 100;            // more header fields → 431
  std::size_t field_size = 8190;       // one "name: value" line longer → 431
  std::uint64_t body = 1ull << 30;     // Content-Length or decoded chunked size over → 413 (0 = none)
  bool permit_unconventional_method = false;  // lower-case / unusual token methods
  bool permit_obsolete_folding = false;       // obs-fold joined with one SP instead of 400
  bool strip_header_spaces = false;           // tolerate "Name : value" (gunicorn's option)
};

}  // namespace gthreadd::http
