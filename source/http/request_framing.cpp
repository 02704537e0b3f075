// The second half of RequestParser: once the head is complete, what its fields mean. Host,
// Content-Type, Expect, Connection, Content-Length and Transfer-Encoding are checked and the
// body's framing and the connection's persistence decided (RFC 9112 §6, §9.3), into the
// Request's own copy of the head.
#include <cstdint>

#include "gthreadd/http/char_class.hpp"
#include "gthreadd/http/field_syntax.hpp"
#include "gthreadd/http/request_parser.hpp"

namespace gthreadd::http {

namespace {

bool is_known_coding(std::string_view c) noexcept {
  // Registered codings we pass through undecoded ahead of chunked, as gunicorn 23 does.
  return iequals(c, "gzip") || iequals(c, "x-gzip") || iequals(c, "deflate") ||
         iequals(c, "compress") || iequals(c, "x-compress");
}

}  // namespace

// What the framing and persistence fields said, gathered over the whole head before any
// verdict that depends on more than one of them.
struct RequestParser::HeadFacts {
  std::size_t hosts = 0, content_types = 0;
  bool has_cl = false, has_te = false, chunked = false, unknown_coding = false;
  bool close = false, keep_alive = false;
  std::uint64_t content_length = 0;
};

// RFC 9112 §6.1 and §7: Transfer-Encoding is a list whose last coding must be chunked,
// chunked exactly once; unknown codings are 501, anything unparseable is 400.
bool RequestParser::apply_transfer_encoding(std::string_view value, bool& chunked, bool& unknown) {
  bool ok = true;
  for_each_list_element(value, [&](std::string_view coding) {
    if (!ok) return;
    if (!is_token(coding)) {  // also catches empty elements and non-ASCII padding
      ok = false;
      fail(400, "invalid Transfer-Encoding");
    } else if (iequals(coding, "chunked")) {
      if (chunked) ok = false, fail(400, "chunked applied twice");
      chunked = true;
    } else if (chunked) {
      ok = false;
      fail(400, "Transfer-Encoding does not end with chunked");
    } else if (!is_known_coding(coding)) {
      unknown = true;  // 501, unless a framing conflict makes it a 400 (decided in finish)
    }
  });
  return ok;
}

bool RequestParser::finish(std::string_view buffer, Request& out) {
  copy_head(buffer, out);
  const std::vector<char>& copy = out.storage_;
  const std::string_view head(copy.data(), scanned_);
  const std::string_view folded(copy.data() + scanned_, folded_.size());

  out.method = head.substr(request_start_, method_len_);
  out.target = head.substr(target_off_, target_len_);
  out.path = path_is_root_ ? std::string_view("/") : head.substr(path_off_, path_len_);
  out.query = head.substr(query_off_, query_len_);
  out.version_minor = version_minor_;

  HeadFacts facts;
  for (const FieldOffsets& f : fields_) {
    const std::string_view name = head.substr(f.name_off, f.name_len);
    const std::string_view value =
        f.folded ? folded.substr(f.value_off, f.value_len) : head.substr(f.value_off, f.value_len);
    out.headers.push_back({name, value});
    if (!note_field(name, value, facts, out)) return false;
  }
  return decide_framing(facts, out);
}

// The Request gets its own copy of the head and of the folded values (one memcpy of a few
// hundred bytes, into capacity kept across requests): nothing it holds can dangle when the
// read buffer grows, moves or is compacted while the body arrives or the app runs.
void RequestParser::copy_head(std::string_view buffer, Request& out) {
  out.clear();
  std::vector<char>& copy = out.storage_;
  copy.assign(buffer.data(), buffer.data() + scanned_);
  copy.insert(copy.end(), folded_.begin(), folded_.end());
  // gunicorn 22+: after validation, so only unconventional ones change.
  if (limits_.casefold_method)
    for (std::size_t i = request_start_; i < request_start_ + method_len_; ++i)
      if (copy[i] >= 'a' && copy[i] <= 'z') copy[i] = static_cast<char>(copy[i] - 'a' + 'A');
}

// One field of a complete head: the checks that need only it, and what it adds to `facts`.
bool RequestParser::note_field(std::string_view name, std::string_view value, HeadFacts& facts,
                               Request& out) {
  switch (name.size()) {  // cheap pre-filter before the case-insensitive compares
    case 4:
      if (iequals(name, "host")) {
        if (++facts.hosts > 1) return fail(400, "repeated Host"), false;
        if (!is_valid_host(value)) return fail(400, "invalid Host"), false;
      }
      break;
    case 12:
      // RFC 9110 §8.3: a singleton; repeats cannot be merged, and implementations that
      // keep the last or the first disagree about the body (gunicorn 26.1 refuses them).
      if (iequals(name, "content-type") && ++facts.content_types > 1)
        return fail(400, "repeated Content-Type"), false;
      break;
    case 6:
      if (iequals(name, "expect") && version_minor_ == 1 && iequals(value, "100-continue"))
        out.expect_continue = true;
      // Other expectations are ignored, as gunicorn does; RFC 9110 §10.1.1 allows a 417
      // but ignoring lets the app decide.
      break;
    case 10:
      if (iequals(name, "connection"))
        for_each_list_element(value, [&](std::string_view t) {
          facts.close |= iequals(t, "close");
          facts.keep_alive |= iequals(t, "keep-alive");
        });
      break;
    case 14:
      if (iequals(name, "content-length")) {
        // Even equal copies are refused (RFC 9110 §8.6 allows merging them; gunicorn
        // does not, and neither does any smuggling-safe front end we sit behind).
        if (facts.has_cl) return fail(400, "repeated Content-Length"), false;
        if (!parse_content_length(value, facts.content_length))
          return fail(400, "invalid Content-Length"), false;
        facts.has_cl = true;
      }
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        // RFC 9112 §6.1: chunked on HTTP/1.0 is only ever seen in smuggling attempts.
        if (version_minor_ == 0) return fail(400, "Transfer-Encoding on HTTP/1.0"), false;
        facts.has_te = true;
        if (!apply_transfer_encoding(value, facts.chunked, facts.unknown_coding)) return false;
      }
      break;
    default: break;
  }
  return true;
}

// The verdicts that need the whole head: framing conflicts, a missing Host, the body limit.
bool RequestParser::decide_framing(const HeadFacts& facts, Request& out) {
  // RFC 9112 §6.1: CL with TE is a smuggling attempt whatever the codings say; it wins over 501.
  if (facts.has_te && facts.has_cl)
    return fail(400, "both Content-Length and Transfer-Encoding"), false;
  if (facts.unknown_coding) return fail(501, "unsupported transfer coding"), false;
  if (facts.has_te && !facts.chunked)
    return fail(400, "Transfer-Encoding does not end with chunked"), false;
  // RFC 9112 §3.2: exactly one Host on HTTP/1.1 (repeats are refused above, on any version).
  if (version_minor_ == 1 && facts.hosts == 0) return fail(400, "missing Host"), false;
  if (facts.chunked) {
    out.framing = BodyFraming::Chunked;
  } else if (facts.has_cl) {
    if (limits_.body != 0 && facts.content_length > limits_.body)
      return fail(413, "request body too large"), false;
    out.framing = BodyFraming::ContentLength;
    out.content_length = facts.content_length;
  }
  // RFC 9112 §9.3: persistent by default on 1.1; 1.0 only when asked for.
  out.keep_alive = !facts.close && (version_minor_ == 1 || facts.keep_alive);
  return true;
}

}  // namespace gthreadd::http
