#pragma once
// The control socket's wire format, gunicorn 25.1's (gunicorn/ctl/protocol.py), so its
// `gunicornc` and `gthreadd ctl` both speak to the master: each message is a 4-byte
// big-endian length and that many bytes of UTF-8 JSON.
//
//   request:  {"id": 1, "command": "worker add", "args": [2]}
//   response: {"id": 1, "status": "ok", "data": {...}}
//             {"id": 1, "status": "error", "error": "Unknown command: foo"}
//
// gunicorn allows 16 MiB a message; the master takes requests of at most kMaxRequest bytes
// (a command is a few words) and the client responses of at most kMaxResponse.
//
// Thread: any; a FrameReader belongs to one connection.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gthreadd/master/control_json.hpp"

namespace gthreadd::master {

inline constexpr std::size_t kMaxRequest = 64 * 1024;
inline constexpr std::size_t kMaxResponse = 16 * 1024 * 1024;  // gunicorn's MAX_MESSAGE_SIZE

// The 4-byte length and the JSON text of `message`.
std::string encode_frame(const Json& message);

// Collects bytes and cuts them into messages.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload) : max_payload_(max_payload) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  enum class Status { Incomplete, Message, TooLarge };
  // The next complete payload goes to `payload`; TooLarge when the announced length is
  // over the limit (the connection cannot be resynchronised and must close).
  Status next(std::string& payload);
  // Bytes of a message begun and not complete.
  [[nodiscard]] bool partial() const noexcept { return !buffer_.empty(); }

 private:
  std::size_t max_payload_;
  std::string buffer_;
};

// A request's command as words: gunicorn splits "command" with shlex and appends "args";
// the commands have no quoting, so whitespace splitting is the same for every valid one.
std::vector<std::string> command_words(const Json& request, std::string& error);

Json make_request(std::int64_t id, const std::string& command);
Json make_response(const Json& id, Json data);
Json make_error(const Json& id, const std::string& error);

}  // namespace gthreadd::master
