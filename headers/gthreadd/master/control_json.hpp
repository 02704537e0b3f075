#pragma once
// The JSON of the control socket's messages (gunicorn 25.1's gunicornc protocol): a small
// value type, a strict parser and a writer. Only what the protocol needs: objects keep their
// members in order, numbers are int64 when they are integers and double otherwise, and the
// parser bounds its nesting, so a hostile request cannot exhaust the master's stack.
//
// Thread: any; a value is owned by whoever built it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gthreadd::master {

class Json {
 public:
  struct Member;
  using Array = std::vector<Json>;
  using Object = std::vector<Member>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : value_(b) {}
  Json(int n) : value_(static_cast<std::int64_t>(n)) {}
  Json(std::int64_t n) : value_(n) {}
  Json(std::uint64_t n) : value_(static_cast<std::int64_t>(n)) {}
  Json(double d) : value_(d) {}
  Json(const char* s) : value_(std::string(s)) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(Array a) : value_(std::move(a)) {}
  Json(Object o) : value_(std::move(o)) {}

  // A parse error names what was wrong and where ("invalid JSON at byte 12: ...").
  static std::optional<Json> parse(std::string_view text, std::string& error);
  // Compact with indent < 0, else pretty-printed with that many spaces per level.
  [[nodiscard]] std::string dump(int indent = -1) const;

  [[nodiscard]] bool is_null() const { return std::holds_alternative<std::nullptr_t>(value_); }
  [[nodiscard]] const std::string* string() const { return std::get_if<std::string>(&value_); }
  [[nodiscard]] const std::int64_t* integer() const { return std::get_if<std::int64_t>(&value_); }
  [[nodiscard]] const double* real() const { return std::get_if<double>(&value_); }
  [[nodiscard]] const bool* boolean() const { return std::get_if<bool>(&value_); }
  [[nodiscard]] const Array* array() const { return std::get_if<Array>(&value_); }
  [[nodiscard]] const Object* object() const { return std::get_if<Object>(&value_); }
  // A member of an object; nullptr when this is not an object or has no such member.
  [[nodiscard]] const Json* find(std::string_view key) const;
  // The value as text, as a client shows it: strings bare, everything else as JSON.
  [[nodiscard]] std::string text() const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;

  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_;
};

struct Json::Member {
  std::string key;
  Json value;
};

}  // namespace gthreadd::master
