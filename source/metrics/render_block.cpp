#include "gthreadd/metrics/exposition.hpp"

namespace gthreadd::metrics {

std::string render_block(SharedBlock& block, const std::vector<ListenerRef>& listeners) {
  std::vector<ListenerSample> samples;
  for (const auto& l : listeners) {
    if (auto backlog = listen_backlog(l.fd))
      samples.push_back({l.name, backlog->queued, backlog->limit});
  }
  return render_prometheus(block.snapshot(), samples);
}

std::int64_t total_backlog(const std::vector<ListenerRef>& listeners) {
  std::int64_t total = 0;
  for (const auto& l : listeners) {
    if (auto backlog = listen_backlog(l.fd)) total += backlog->queued;
  }
  return total;
}

}  // namespace gthreadd::metrics
