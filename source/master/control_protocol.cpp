#include "gthreadd/master/control_protocol.hpp"

#include <cctype>

namespace gthreadd::master {

std::string encode_frame(const Json& message) {
  const std::string payload = message.dump();
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(4 + payload.size());
  out += static_cast<char>((n >> 24) & 0xFF);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
  out += payload;
  return out;
}

FrameReader::Status FrameReader::next(std::string& payload) {
  if (buffer_.size() < 4) return Status::Incomplete;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(buffer_[i]);
  if (n > max_payload_) return Status::TooLarge;
  if (buffer_.size() < 4 + static_cast<std::size_t>(n)) return Status::Incomplete;
  payload.assign(buffer_, 4, n);
  buffer_.erase(0, 4 + static_cast<std::size_t>(n));
  return Status::Message;
}

namespace {

void split_words(const std::string& text, std::vector<std::string>& out) {
  std::string word;
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) out.push_back(std::move(word)), word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
}

}  // namespace

std::vector<std::string> command_words(const Json& request, std::string& error) {
  std::vector<std::string> words;
  const Json* command = request.find("command");
  if (!request.object() || !command || !command->string()) {
    error = "Invalid request: expected {\"command\": \"...\"}";
    return words;
  }
  split_words(*command->string(), words);
  if (const Json* args = request.find("args")) {
    if (!args->array() && !args->is_null()) {
      error = "Invalid request: \"args\" must be a list";
      return {};
    }
    if (args->array())
      for (const auto& arg : *args->array()) words.push_back(arg.text());
  }
  if (words.empty()) error = "Empty command";
  return words;
}

Json make_request(std::int64_t id, const std::string& command) {
  return Json(Json::Object{{"id", id}, {"command", command}, {"args", Json::Array{}}});
}

Json make_response(const Json& id, Json data) {
  return Json(Json::Object{{"id", id}, {"status", "ok"}, {"data", std::move(data)}});
}

Json make_error(const Json& id, const std::string& error) {
  return Json(Json::Object{{"id", id}, {"status", "error"}, {"error", error}});
}

}  // namespace gthreadd::master
