#include "gthreadd/log/access_log_format.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <ctime>
#include <stdexcept>

namespace gthreadd::log {
namespace {

using Atom = AccessLogFormat::Atom;

Atom atom_for(std::string_view key) {
  if (key.size() != 1) return Atom::Unknown;
  switch (key[0]) {
    case 'h': return Atom::RemoteAddr;
    case 'l': return Atom::Ident;
    case 'u': return Atom::User;
    case 't': return Atom::Time;
    case 'r': return Atom::RequestLine;
    case 's': return Atom::Status;
    case 'm': return Atom::Method;
    case 'U': return Atom::Path;
    case 'q': return Atom::Query;
    case 'H': return Atom::Protocol;
    case 'B': return Atom::BytesB;
    case 'b': return Atom::Bytesb;
    case 'f': return Atom::Referer;
    case 'a': return Atom::UserAgent;
    case 'T': return Atom::Seconds;
    case 'D': return Atom::Micros;
    case 'M': return Atom::Millis;
    case 'L': return Atom::SecondsDecimal;
    case 'p': return Atom::Pid;
    default: return Atom::Unknown;
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// gunicorn reads referer, user agent and authorization from the environ, where repeated
// headers were joined with ','; {name}i comes from a dict built in order, so the last wins.
std::optional<std::string> joined_header(std::span<const AccessRecord::Header> headers,
                                         std::string_view name) {
  std::optional<std::string> value;
  for (const auto& [n, v] : headers) {
    if (!iequals(n, name)) continue;
    if (value) *value += ',';
    else value.emplace();
    *value += v;
  }
  return value;
}
std::optional<std::string_view> last_header(std::span<const AccessRecord::Header> headers,
                                            std::string_view name) {
  std::optional<std::string_view> value;
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) value = v;
  }
  return value;
}

// gunicorn's atoms are Python str: request bytes read as latin-1 (PATH_INFO, headers, the
// request line) and the app's header values, which logging writes out as UTF-8. A byte
// 0x80-0xFF therefore reaches the file as two bytes (é sent raw as C3 A9 is logged as
// "Ã©", C3 83 C2 A9), and the log is always valid UTF-8 whatever a client sent.
void append_latin1_as_utf8(std::string& out, std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (byte >> 6));
      out += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
}

bool all_ascii(std::string_view value) {
  for (char c : value)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Python's bytes.decode('utf-8') succeeds (RFC 3629: no overlongs, surrogates or values
// past U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 3, cp = c & 0x07;
    else return false;
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// Python's base64.b64decode(validate=False): characters outside the alphabet are skipped.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  std::size_t symbols = 0;
  bool padding = false;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '+') value = 62;
    else if (c == '/') value = 63;
    else if (c == '=') {
      padding = true;
      ++symbols;
      continue;
    } else continue;
    if (padding) return std::nullopt;
    ++symbols;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (symbols % 4 != 0) return std::nullopt;
  return out;
}

// gunicorn's Logger._get_user: "Basic <base64 user:password>" → user.
std::optional<std::string> basic_auth_user(std::span<const AccessRecord::Header> headers) {
  auto auth = joined_header(headers, "authorization");
  if (!auth || !lower(auth->substr(0, 5)).starts_with("basic")) return std::nullopt;
  const auto space = auth->find(' ');
  if (space == std::string::npos) return std::nullopt;
  auto decoded = base64_decode(std::string_view(*auth).substr(space + 1));
  // gunicorn decodes the pair as UTF-8 and logs no user when that fails.
  if (!decoded || !valid_utf8(*decoded)) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return decoded->substr(0, colon);
}

// "[25/Nov/2026:08:00:00 +0000]" (time.strftime('[%d/%b/%Y:%H:%M:%S %z]')), with English
// month names whatever the locale, cached per thread for the current second.
const std::string& clf_time(std::chrono::system_clock::time_point when) {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const std::time_t second = std::chrono::system_clock::to_time_t(when);
  if (second != cached_second) {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm tm{};
    localtime_r(&second, &tm);
    const long offset = tm.tm_gmtoff / 60;
    char text[64];
    std::snprintf(text, sizeof text, "[%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld]", tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  offset < 0 ? '-' : '+', std::labs(offset) / 60, std::labs(offset) % 60);
    cached = text;
    cached_second = second;
  }
  return cached;
}

// SafeAtoms: '"' inside string atoms is escaped, so a quoted field cannot be broken out of.
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '"') out += '\\';
    out += c;
  }
}

[[noreturn]] void fail_at(std::string_view format, std::size_t at, const char* why) {
  throw std::invalid_argument("access log format: " + std::string(why) + " at position " +
                              std::to_string(at) + " of '" + std::string(format) + "'");
}

// "%(name)": the key of the directive starting at `start`; `i` is just past '%' and is left
// just past the closing ')'. Python allows nested parentheses in the key.
std::string_view read_key(std::string_view format, std::size_t start, std::size_t& i) {
  if (i >= format.size() || format[i] != '(') fail_at(format, start, "expected '%(name)s' or '%%'");
  int depth = 1;
  const std::size_t key_start = ++i;
  for (; i < format.size() && depth > 0; ++i) {
    if (format[i] == '(') ++depth;
    else if (format[i] == ')') --depth;
  }
  if (depth != 0) fail_at(format, start, "unclosed '%('");
  return format.substr(key_start, i - 1 - key_start);
}

// What follows the key, as Python's %-format reads it: flags, width, precision, length
// modifier and the conversion, left at `i`. Only '-', width and precision change the output.
void read_conversion(std::string_view format, std::size_t start, std::size_t& i,
                     AccessLogFormat::Part& part) {
  bool left = false;
  while (i < format.size() && std::string_view("#0- +").find(format[i]) != std::string_view::npos) {
    left = left || format[i] == '-';
    ++i;
  }
  while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
    part.width = part.width * 10 + (format[i++] - '0');
    if (part.width > 10000) fail_at(format, start, "width too large");
  }
  if (left) part.width = -part.width;
  if (i < format.size() && format[i] == '.') {
    part.precision = 0;
    while (++i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) {
      part.precision = part.precision * 10 + (format[i] - '0');
      if (part.precision > 10000) fail_at(format, start, "precision too large");
    }
  }
  while (i < format.size() && std::string_view("hlL").find(format[i]) != std::string_view::npos)
    ++i;
  if (i >= format.size() ||
      std::string_view("sdiraufgeEFGxXoc").find(format[i]) == std::string_view::npos) {
    fail_at(format, start, "missing conversion after '%(name)', such as 's'");
  }
}

// How an atom's value is written: SafeAtoms escapes '"' in string atoms (not in numbers),
// and bytes from the wire or the app's headers are latin-1, written as UTF-8.
struct Shown {
  bool escape = true;
  bool latin1 = false;
};

// The atoms that are bytes from the wire or the app's headers. False for any other atom.
bool put_wire_atom(const AccessLogFormat::Part& part, const AccessRecord& r, std::string& value) {
  switch (part.atom) {
    case Atom::RequestLine:
      value.append(r.method).append(" ").append(r.raw_uri).append(" ").append(r.protocol);
      return true;
    case Atom::Method: value.append(r.method); return true;
    case Atom::Path: value.append(r.path); return true;
    case Atom::Query: value.append(r.query); return true;
    case Atom::Protocol: value.append(r.protocol); return true;
    case Atom::Referer: {
      auto text = joined_header(r.request_headers, "referer");
      value.append(text ? *text : "-");
      return true;
    }
    case Atom::UserAgent: {
      auto text = joined_header(r.request_headers, "user-agent");
      value.append(text ? *text : "-");
      return true;
    }
    case Atom::RequestHeader: {
      auto text = last_header(r.request_headers, part.text);
      value.append(text ? *text : "-");
      return true;
    }
    case Atom::ResponseHeader: {
      auto text = last_header(r.response_headers, part.text);
      value.append(text ? *text : "-");
      return true;
    }
    default: return false;
  }
}

// The time stamp and the durations. False for any other atom.
bool put_time_atom(Atom atom, const AccessRecord& r, std::string& value, Shown& how) {
  const auto micros = r.duration.count() < 0 ? 0 : r.duration.count();
  switch (atom) {
    case Atom::Time: value.append(clf_time(r.start + r.duration)); return true;
    case Atom::Seconds: value.append(std::to_string(micros / 1000000)); break;
    case Atom::Micros: value.append(std::to_string(micros)); break;
    case Atom::Millis: value.append(std::to_string(micros / 1000)); break;
    case Atom::SecondsDecimal: {
      char text[32];
      std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(micros / 1000000),
                    static_cast<long long>(micros % 1000000));
      value.append(text);
      return true;
    }
    default: return false;
  }
  how.escape = false;  // the whole numbers
  return true;
}

// {name}e: the environ variable, looked up upper-cased first (SafeAtoms lower-cased the key).
void put_environ(const AccessLogFormat::Part& part, const AccessRecord& r, std::string& value) {
  std::optional<std::string> text;
  if (r.environ) {
    std::string upper(part.text);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    text = r.environ(upper);
    if (!text && upper != part.text) text = r.environ(part.text);
  }
  value.append(text ? *text : "-");
}

// Appends one atom's value (never a Literal) to `value`, and says how it is to be written.
Shown put_atom(const AccessLogFormat::Part& part, const AccessRecord& r, std::string& value) {
  Shown how;
  if (put_wire_atom(part, r, value)) {
    how.latin1 = true;
    return how;
  }
  if (put_time_atom(part.atom, r, value, how)) return how;
  switch (part.atom) {
    // environ['REMOTE_ADDR'] as it is: empty for a unix-socket peer, as in gunicorn,
    // whose accept() gets '' as the peer's address there.
    case Atom::RemoteAddr: value.append(r.remote_addr); break;
    case Atom::Ident: value.append("-"); break;
    case Atom::User: {
      auto user = basic_auth_user(r.request_headers);
      value.append(user ? *user : "-");
      break;
    }
    case Atom::Status: value.append(std::to_string(r.status)); break;
    case Atom::BytesB:
    case Atom::Bytesb:
      // gunicorn: str(resp.sent) whenever it is known, so 0 bytes prints "0".
      value.append(r.response_length ? std::to_string(*r.response_length) : "-");
      how.escape = part.atom == Atom::Bytesb;
      break;
    case Atom::Pid: value.append("<" + std::to_string(r.pid ? r.pid : ::getpid()) + ">"); break;
    case Atom::Environ: put_environ(part, r, value); break;
    default: value.append("-"); break;  // Unknown
  }
  return how;
}

// SafeAtoms escapes first, then Python's %-format applies precision and width.
void append_shown(std::string& out, const AccessLogFormat::Part& part, const std::string& value,
                  Shown how, std::string& escaped) {
  std::string_view shown = value;
  if (how.escape && value.find('"') != std::string::npos) {
    escaped.clear();
    append_escaped(escaped, value);
    shown = escaped;
  }
  if (part.precision >= 0 && shown.size() > static_cast<std::size_t>(part.precision)) {
    shown = shown.substr(0, static_cast<std::size_t>(part.precision));
  }
  const std::size_t width = static_cast<std::size_t>(part.width < 0 ? -part.width : part.width);
  const std::size_t pad = shown.size() < width ? width - shown.size() : 0;
  if (part.width > 0) out.append(pad, ' ');
  // Precision and width above counted characters: one byte each in latin-1.
  if (how.latin1 && !all_ascii(shown)) {
    append_latin1_as_utf8(out, shown);
  } else {
    out += shown;
  }
  if (part.width < 0) out.append(pad, ' ');
}

}  // namespace

AccessLogFormat::AccessLogFormat(std::string_view format) {
  std::string literal;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      literal += format[i];
      continue;
    }
    const std::size_t start = i++;
    if (i < format.size() && format[i] == '%') {
      literal += '%';
      continue;
    }
    const std::string_view key = read_key(format, start, i);
    Part part;
    read_conversion(format, start, i, part);
    if (!literal.empty()) parts_.push_back({Atom::Literal, std::move(literal)});
    literal.clear();
    add_atom(key, std::move(part));
  }
  if (!literal.empty()) parts_.push_back({Atom::Literal, std::move(literal)});
}

void AccessLogFormat::add_atom(std::string_view key, Part part) {
  if (key.starts_with("{")) {
    // SafeAtoms lower-cases the whole key, so "{Host}I" works like "{host}i".
    const auto name = lower(key);
    const auto close = name.rfind('}');
    const auto suffix = close == std::string::npos ? std::string() : name.substr(close + 1);
    part.text = close == std::string::npos ? std::string() : name.substr(1, close - 1);
    part.atom = suffix == "i"   ? Atom::RequestHeader
                : suffix == "o" ? Atom::ResponseHeader
                : suffix == "e" ? Atom::Environ
                                : Atom::Unknown;
    needs_environ_ = needs_environ_ || part.atom == Atom::Environ;
  } else {
    part.atom = atom_for(key);
  }
  parts_.push_back(std::move(part));
}

void AccessLogFormat::format(const AccessRecord& r, std::string& out) const {
  out.clear();
  std::string value;
  std::string escaped;
  for (const auto& part : parts_) {
    if (part.atom == Atom::Literal) {
      out += part.text;
      continue;
    }
    value.clear();
    const Shown how = put_atom(part, r, value);
    append_shown(out, part, value, how, escaped);
  }
}

std::vector<std::string> AccessLogFormat::environ_names() const {
  std::vector<std::string> names;
  for (const auto& part : parts_)
    if (part.atom == Atom::Environ) names.push_back(part.text);
  return names;
}

}  // namespace gthreadd::log
