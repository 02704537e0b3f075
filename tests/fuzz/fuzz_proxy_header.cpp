// libFuzzer target: the PROXY protocol header parser must never crash or read outside the
// input, must reach the same verdict (status, length, addresses) however the bytes are
// split, and its verdicts must respect the mode and the peer's permission.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gthreadd/http/proxy_header.hpp"

namespace {

using namespace gthreadd::http;

void check(bool ok) {
  if (!ok) std::abort();  // a disagreement is a finding, like a crash
}

struct Verdict {
  ProxyStatus status = ProxyStatus::Incomplete;
  std::size_t consumed = 0;
  ProxyHeader header;
};

Verdict run(ProxyMode mode, bool allowed, std::string_view in, std::size_t step) {
  ProxyHeaderParser p(mode, allowed);
  ProxyResult r;
  for (std::size_t n = step < in.size() ? step : in.size();; n += step) {
    if (n > in.size()) n = in.size();
    r = p.feed(in.substr(0, n));
    if (r.status != ProxyStatus::Incomplete || n == in.size()) break;
  }
  Verdict v{r.status, r.consumed, {}};
  if (r.status == ProxyStatus::Done) v.header = p.header();
  if (r.status == ProxyStatus::Error || r.status == ProxyStatus::Forbidden)
    check(!p.error().empty());
  return v;
}

bool same(const Verdict& a, const Verdict& b) {
  return a.status == b.status && a.consumed == b.consumed && a.header.version == b.header.version &&
         a.header.use_real_peer == b.header.use_real_peer && a.header.family == b.header.family &&
         a.header.source_addr == b.header.source_addr && a.header.dest_addr == b.header.dest_addr &&
         a.header.source_port == b.header.source_port && a.header.dest_port == b.header.dest_port &&
         a.header.protocol == b.header.protocol;
}

bool is_address(int family, const std::string& text) {
  unsigned char b[16];
  return ::inet_pton(family, text.c_str(), b) == 1;
}

void fuzz(ProxyMode mode, bool allowed, std::string_view in) {
  const Verdict whole = run(mode, allowed, in, in.size() + 1);
  const Verdict thirds = run(mode, allowed, in, in.size() / 3 + 1);
  check(same(whole, thirds));
  if (in.size() <= 4096) check(same(whole, run(mode, allowed, in, 1)));

  switch (whole.status) {
    case ProxyStatus::Incomplete: check(mode != ProxyMode::Off); break;
    case ProxyStatus::Absent: check(whole.consumed == 0); break;
    case ProxyStatus::Forbidden: check(!allowed && mode != ProxyMode::Off); break;
    case ProxyStatus::Error: check(mode != ProxyMode::Off && whole.consumed == 0); break;
    case ProxyStatus::Done: {
      check(mode != ProxyMode::Off && allowed);
      check(whole.consumed > 0 && whole.consumed <= in.size());
      const auto& h = whole.header;
      if (h.version == 1) {
        check(mode != ProxyMode::V2 && in.starts_with("PROXY "));
        check(whole.consumed <= ProxyHeaderParser::kMaxV1Line);
        check(in.substr(whole.consumed - 2, 2) == "\r\n");
      } else {
        check(h.version == 2 && mode != ProxyMode::V1);
        check(whole.consumed >= ProxyHeaderParser::kV2Fixed && whole.consumed <= 16 + 65535);
      }
      if (!h.use_real_peer) {
        check(h.family == AF_INET || h.family == AF_INET6);
        check(is_address(h.family, h.source_addr) && is_address(h.family, h.dest_addr));
      } else {
        check(h.source_addr.empty() && h.dest_addr.empty());
      }
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  fuzz(ProxyMode::Auto, true, in);
  fuzz(ProxyMode::V1, true, in);
  fuzz(ProxyMode::V2, true, in);
  fuzz(ProxyMode::Off, true, in);
  fuzz(ProxyMode::Auto, false, in);
  return 0;
}
