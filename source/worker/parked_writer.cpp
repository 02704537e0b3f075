#include "gthreadd/worker/parked_writer.hpp"

#include <climits>
#include <span>

namespace gthreadd::worker {
namespace {

// Writes pieces[next..], advancing `next` and trimming a partly written piece in place.
DrainStatus write_pieces(Transport& io, std::vector<iovec>& pieces, std::size_t& next,
                         std::size_t& written) noexcept {
  while (next < pieces.size()) {
    const std::size_t n = std::min<std::size_t>(pieces.size() - next, IOV_MAX);
    const IoResult r = io.writev(std::span<const iovec>(pieces.data() + next, n));
    if (r.status == IoStatus::WouldBlock) return DrainStatus::WouldBlock;
    if (r.status != IoStatus::Ok) return DrainStatus::Gone;
    written += r.bytes;
    std::size_t left = r.bytes;
    while (next < pieces.size() && left >= pieces[next].iov_len) left -= pieces[next++].iov_len;
    if (left > 0) {
      pieces[next].iov_base = static_cast<char*>(pieces[next].iov_base) + left;
      pieces[next].iov_len -= left;
    }
  }
  return DrainStatus::Done;
}

}  // namespace

DrainResult drain_parked(Transport& io, wsgi::ParkedBytes& parked) noexcept {
  DrainResult result;
  auto finish = [&](DrainStatus status) {
    result.status = status;
    return result;
  };
  if (auto s = write_pieces(io, parked.iov, parked.next, result.bytes); s != DrainStatus::Done)
    return finish(s);
  while (parked.count > 0) {
    const IoResult r = io.sendfile(parked.file, &parked.offset, parked.count);
    if (r.status == IoStatus::WouldBlock) return finish(DrainStatus::WouldBlock);
    // A file shorter than its size said: the body cannot be completed.
    if (r.status != IoStatus::Ok || r.bytes == 0) return finish(DrainStatus::Gone);
    parked.count -= r.bytes;
    result.bytes += r.bytes;
  }
  if (auto s = write_pieces(io, parked.after_file, parked.after_next, result.bytes);
      s != DrainStatus::Done)
    return finish(s);
  parked.clear();
  return finish(DrainStatus::Done);
}

}  // namespace gthreadd::worker
