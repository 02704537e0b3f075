#include "gthreadd/master/control_json.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace gthreadd::master {
namespace {

// Deep enough for any message of the protocol, shallow enough for the master's stack.
constexpr int kMaxDepth = 32;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<Json> document(std::string& error) {
    auto value = parse_value(0);
    skip_space();
    if (value && pos_ != text_.size()) fail("trailing characters");
    if (!error_.empty()) {
      error = "invalid JSON at byte " + std::to_string(pos_) + ": " + error_;
      return std::nullopt;
    }
    return value;
  }

 private:
  std::optional<Json> fail(const char* why) {
    if (error_.empty()) error_ = why;
    return std::nullopt;
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  bool word(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  std::optional<Json> parse_value(int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) return fail("unexpected end");
    const char c = text_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') {
      auto s = parse_string();
      if (!s) return std::nullopt;
      return Json(std::move(*s));
    }
    if (word("true")) return Json(true);
    if (word("false")) return Json(false);
    if (word("null")) return Json(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    return fail("unexpected character");
  }

  std::optional<Json> parse_object(int depth) {
    ++pos_;  // '{'
    Json::Object members;
    if (eat('}')) return Json(std::move(members));
    do {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return fail("expected a member name");
      auto key = parse_string();
      if (!key) return std::nullopt;
      if (!eat(':')) return fail("expected ':'");
      auto value = parse_value(depth + 1);
      if (!value) return std::nullopt;
      members.push_back({std::move(*key), std::move(*value)});
    } while (eat(','));
    if (!eat('}')) return fail("expected ',' or '}'");
    return Json(std::move(members));
  }

  std::optional<Json> parse_array(int depth) {
    ++pos_;  // '['
    Json::Array items;
    if (eat(']')) return Json(std::move(items));
    do {
      auto value = parse_value(depth + 1);
      if (!value) return std::nullopt;
      items.push_back(std::move(*value));
    } while (eat(','));
    if (!eat(']')) return fail("expected ',' or ']'");
    return Json(std::move(items));
  }

  std::optional<Json> parse_number() {
    const std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    bool integral = true;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') integral = false;
      else if (c < '0' || c > '9') break;
      ++pos_;
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (integral) {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(first, last, n);
      if (ec == std::errc{} && end == last) return Json(n);
    }
    double d = 0;
    auto [end, ec] = std::from_chars(first, last, d);
    if (ec != std::errc{} || end != last || !std::isfinite(d)) return fail("invalid number");
    return Json(d);
  }

  std::optional<unsigned> hex4() {
    if (pos_ + 4 > text_.size()) return std::nullopt;
    unsigned v = 0;
    auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, v, 16);
    if (ec != std::errc{} || end != text_.data() + pos_ + 4) return std::nullopt;
    pos_ += 4;
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool escape(std::string& out) {
    if (pos_ >= text_.size()) return false;
    const char c = text_[pos_++];
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    auto cp = hex4();
    if (!cp) return false;
    if (*cp >= 0xD800 && *cp < 0xDC00 && word("\\u")) {
      auto low = hex4();
      if (!low || *low < 0xDC00 || *low >= 0xE000) return false;
      *cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
    }
    append_utf8(out, *cp);
    return true;
  }

  std::optional<std::string> parse_string() {
    ++pos_;  // '"'
    std::string out;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20)
        return fail("control character in a string"), std::nullopt;
      if (c != '\\') out += c;
      else if (!escape(out)) return fail("invalid escape"), std::nullopt;
    }
    fail("unterminated string");
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void newline(std::string& out, int indent, int depth) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent * depth), ' ');
}

}  // namespace

std::optional<Json> Json::parse(std::string_view text, std::string& error) {
  return Parser(text).document(error);
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

const Json* Json::find(std::string_view key) const {
  const auto* members = object();
  if (!members) return nullptr;
  for (const auto& m : *members)
    if (m.key == key) return &m.value;
  return nullptr;
}

std::string Json::text() const {
  if (const auto* s = string()) return *s;
  return dump();
}

void Json::dump_to(std::string& out, int indent, int depth) const {
  if (is_null()) {
    out += "null";
  } else if (const auto* b = boolean()) {
    out += *b ? "true" : "false";
  } else if (const auto* n = integer()) {
    out += std::to_string(*n);
  } else if (const auto* d = real()) {
    // The shortest text that reads back as the same double (0.2, not 0.20000000000000001).
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    out.append(buf, ec == std::errc{} ? end : buf);
  } else if (const auto* s = string()) {
    dump_string(out, *s);
  } else if (const auto* a = array()) {
    out += '[';
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += indent < 0 ? ", " : ",";
      newline(out, indent, depth + 1);
      (*a)[i].dump_to(out, indent, depth + 1);
    }
    if (!a->empty()) newline(out, indent, depth);
    out += ']';
  } else if (const auto* o = object()) {
    out += '{';
    for (std::size_t i = 0; i < o->size(); ++i) {
      if (i) out += indent < 0 ? ", " : ",";
      newline(out, indent, depth + 1);
      dump_string(out, (*o)[i].key);
      out += ": ";
      (*o)[i].value.dump_to(out, indent, depth + 1);
    }
    if (!o->empty()) newline(out, indent, depth);
    out += '}';
  }
}

}  // namespace gthreadd::master
