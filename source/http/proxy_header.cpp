#include "gthreadd/http/proxy_header.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace gthreadd::http {
namespace {

constexpr std::string_view kV1Signature = "PROXY";
// Spec 2.2: twelve bytes no other common protocol starts with (note the NUL).
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

constexpr std::uint8_t kCommandLocal = 0x0, kCommandProxy = 0x1;
constexpr std::uint8_t kFamilyUnspec = 0x0, kFamilyInet = 0x1, kFamilyInet6 = 0x2,
                       kFamilyUnix = 0x3;
constexpr std::uint8_t kTransportUnspec = 0x0, kTransportStream = 0x1, kTransportDgram = 0x2;

std::uint8_t byte_at(std::string_view data, std::size_t i) {
  return static_cast<std::uint8_t>(data[i]);
}

std::uint16_t be16(std::string_view data, std::size_t i) {
  return static_cast<std::uint16_t>((byte_at(data, i) << 8) | byte_at(data, i + 1));
}

// Spec 2.1: decimal, 0..65535, "heading zeroes are not permitted".
bool parse_port(std::string_view text, std::uint16_t& port) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// Spec 2.1: IPv4 as four decimal octets without heading zeroes; IPv6 as colon-separated
// hex groups with at most one "::". glibc's inet_pton enforces exactly that (it refuses
// "01.2.3.4"); the character check keeps out zone ids, signs and spaces first. The
// canonical text (inet_ntop) is what the environ and the access log get.
bool parse_address(std::string_view text, int family, std::string& canonical) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  for (char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!(digit || c == '.' || (family == AF_INET6 && (hex || c == ':')))) return false;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char binary[sizeof(in6_addr)];
  if (::inet_pton(family, buf, binary) != 1) return false;
  char out[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, binary, out, sizeof out) == nullptr) return false;
  canonical = out;
  return true;
}

std::string binary_address(int family, const char* bytes) {
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes, out, sizeof out);
  return out;
}

}  // namespace

std::optional<ProxyMode> parse_proxy_mode(std::string_view setting) noexcept {
  if (setting == "off") return ProxyMode::Off;
  if (setting == "v1") return ProxyMode::V1;
  if (setting == "v2") return ProxyMode::V2;
  if (setting == "auto") return ProxyMode::Auto;
  return std::nullopt;
}

ProxyResult ProxyHeaderParser::finish(ProxyStatus status, std::size_t consumed) {
  phase_ = Phase::Finished;
  result_ = {status, consumed};
  return result_;
}

ProxyResult ProxyHeaderParser::feed(std::string_view data) {
  switch (phase_) {
    case Phase::Finished: return result_;
    case Phase::Detect: return detect(data);
    case Phase::V1Line: return v1_line(data);
    default: return v2(data);
  }
}

// The first byte decides which signature can follow ('P' or CR); the bytes are then
// compared with it as they come. A mismatch anywhere is plain HTTP, as in gunicorn.
ProxyResult ProxyHeaderParser::detect(std::string_view data) {
  if (mode_ == ProxyMode::Off) return finish(ProxyStatus::Absent);
  if (data.empty()) return {};
  const bool is_v1 =
      (mode_ == ProxyMode::V1 || mode_ == ProxyMode::Auto) && data[0] == kV1Signature[0];
  const bool is_v2 =
      (mode_ == ProxyMode::V2 || mode_ == ProxyMode::Auto) && data[0] == kV2Signature[0];
  if (!is_v1 && !is_v2) return finish(ProxyStatus::Absent);
  const std::string_view signature = is_v1 ? kV1Signature : kV2Signature;
  for (; pos_ < data.size() && pos_ < signature.size(); ++pos_)
    if (data[pos_] != signature[pos_]) return finish(ProxyStatus::Absent);
  if (pos_ < signature.size()) return {};
  // gunicorn checks the peer as soon as it knows a PROXY header is there, before parsing
  // it: a peer that may not send one learns nothing about what a valid one looks like.
  if (!allowed_) {
    error_ = "PROXY header from a peer not in proxy_allow_ips";
    return finish(ProxyStatus::Forbidden);
  }
  header_.version = is_v1 ? 1 : 2;
  phase_ = is_v1 ? Phase::V1Line : Phase::V2Fixed;
  return is_v1 ? v1_line(data) : v2(data);
}

// Spec 2.1: the line ends at the first CRLF, within 107 bytes; a lone CR or LF is not an
// end of line but an error.
ProxyResult ProxyHeaderParser::v1_line(std::string_view data) {
  constexpr std::size_t kLastCr = kMaxV1Line - 2;  // the CR of a 107-byte line
  for (; pos_ < data.size() && pos_ <= kLastCr; ++pos_) {
    const char c = data[pos_];
    if (c == '\n') return fail("LF without CR in the PROXY line");
    if (c != '\r') continue;
    if (pos_ + 1 >= data.size()) return {};  // the LF may be in the next read
    if (data[pos_ + 1] != '\n') return fail("CR without LF in the PROXY line");
    return v1_parse(data.substr(0, pos_), pos_ + 2);
  }
  if (pos_ > kLastCr) return fail("no CRLF within the 107 bytes of a PROXY line");
  return {};
}

// "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>", fields separated by exactly one space;
// or "PROXY UNKNOWN", whose rest up to the CRLF the receiver must ignore.
ProxyResult ProxyHeaderParser::v1_parse(std::string_view line, std::size_t consumed) {
  if (line.size() < 6 || line[5] != ' ') return fail("PROXY not followed by a single space");
  std::string_view rest = line.substr(6);
  if (rest == "UNKNOWN" || rest.starts_with("UNKNOWN ")) {
    header_.protocol = "UNKNOWN";
    return finish(ProxyStatus::Done, consumed);
  }
  std::array<std::string_view, 5> fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto space = rest.find(' ');
    if ((space == std::string_view::npos) != (i == fields.size() - 1))
      return fail("a PROXY line has six fields separated by single spaces");
    fields[i] = rest.substr(0, space);
    if (fields[i].empty()) return fail("a PROXY line has six fields separated by single spaces");
    if (space != std::string_view::npos) rest.remove_prefix(space + 1);
  }
  int family;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return fail("PROXY protocol is not TCP4, TCP6 or UNKNOWN");
  }
  ProxyHeader h;
  h.version = 1;
  h.use_real_peer = false;
  h.family = family;
  h.protocol = std::string(fields[0]);
  if (!parse_address(fields[1], family, h.source_addr) ||
      !parse_address(fields[2], family, h.dest_addr))
    return fail("PROXY line address is not a valid address of its family");
  if (!parse_port(fields[3], h.source_port) || !parse_port(fields[4], h.dest_port))
    return fail("PROXY line port is not a decimal 0-65535 without leading zeros");
  header_ = std::move(h);
  return finish(ProxyStatus::Done, consumed);
}

// Spec 2.2: 12-byte signature, version/command, family/transport, big-endian length of
// what follows (addresses, then TLVs). Every part is checked as soon as its bytes are in.
ProxyResult ProxyHeaderParser::v2(std::string_view data) {
  if (phase_ == Phase::V2Fixed) {
    if (data.size() < kV2Fixed) return {};
    if (!v2_fixed(data)) return result_;
  }
  if (phase_ == Phase::V2Addresses) {
    if (data.size() < kV2Fixed + v2_addr_len_) return {};
    v2_addresses(data);
  }
  if (phase_ == Phase::V2Tlvs) {
    // The TLVs are skipped, but they must tile the rest of the header exactly: a length
    // that runs past it is a malformed header, not something to guess around.
    while (pos_ < v2_total_) {
      if (v2_total_ - pos_ < 3) return fail("PROXY v2 header ends inside a TLV's type and length");
      if (data.size() < pos_ + 3) return {};
      const std::size_t next = pos_ + 3 + be16(data, pos_ + 1);
      if (next > v2_total_) return fail("PROXY v2 TLV runs past the end of the header");
      pos_ = next;
    }
    phase_ = Phase::V2Skip;
  }
  if (data.size() < v2_total_) return {};
  return finish(ProxyStatus::Done, v2_total_);
}

// The 16 fixed bytes: which phase comes next. False after fail().
bool ProxyHeaderParser::v2_fixed(std::string_view data) {
  const std::uint8_t version_command = byte_at(data, 12);
  if ((version_command >> 4) != 2) return fail("PROXY v2 version is not 2"), false;
  v2_command_ = version_command & 0x0F;
  if (v2_command_ != kCommandLocal && v2_command_ != kCommandProxy)
    return fail("PROXY v2 command is neither LOCAL nor PROXY"), false;
  v2_total_ = kV2Fixed + be16(data, 14);
  v2_family_ = byte_at(data, 13);
  pos_ = kV2Fixed;
  header_.use_real_peer = true;
  if (v2_command_ == kCommandLocal) {
    // The proxy's own connection (a health check): "the receiver must use the real
    // connection endpoints and discard the protocol block including the family".
    header_.protocol = "LOCAL";
    phase_ = Phase::V2Skip;
    return true;
  }
  const std::uint8_t family = v2_family_ >> 4, transport = v2_family_ & 0x0F;
  if (family > kFamilyUnix || transport > kTransportDgram)
    return fail("PROXY v2 address family or transport is not one the spec defines"), false;
  header_.protocol = "UNSPEC";
  if (family == kFamilyUnspec || transport == kTransportUnspec) {
    // "The receiver should ignore address information" and may use the real peer.
    phase_ = Phase::V2Skip;
    return true;
  }
  v2_addr_len_ = family == kFamilyInet ? 12 : family == kFamilyInet6 ? 36 : 216;
  if (v2_total_ < kV2Fixed + v2_addr_len_)
    return fail("PROXY v2 length is shorter than its address family's addresses"), false;
  phase_ = Phase::V2Addresses;
  return true;
}

// The address block, all of it in `data`; then the TLVs.
void ProxyHeaderParser::v2_addresses(std::string_view data) {
  const std::uint8_t family = v2_family_ >> 4, transport = v2_family_ & 0x0F;
  // TCP over IPv4 or IPv6 is what an HTTP connection is. UDP and AF_UNIX are valid
  // combinations this receiver does not use: the spec has it fall back to the real peer.
  if (transport == kTransportStream && (family == kFamilyInet || family == kFamilyInet6)) {
    const int af = family == kFamilyInet ? AF_INET : AF_INET6;
    const std::size_t n = af == AF_INET ? 4 : 16;
    const char* a = data.data() + kV2Fixed;
    header_.use_real_peer = false;
    header_.family = af;
    header_.protocol = af == AF_INET ? "TCP4" : "TCP6";
    header_.source_addr = binary_address(af, a);
    header_.dest_addr = binary_address(af, a + n);
    header_.source_port = be16(data, kV2Fixed + 2 * n);
    header_.dest_port = be16(data, kV2Fixed + 2 * n + 2);
  }
  pos_ = kV2Fixed + v2_addr_len_;
  phase_ = Phase::V2Tlvs;
}

}  // namespace gthreadd::http
