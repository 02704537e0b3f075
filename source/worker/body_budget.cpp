#include "gthreadd/worker/body_budget.hpp"

#include <cstdlib>

namespace gthreadd::worker {

bool BodyCharge::set(std::uint64_t memory, std::uint64_t disk) noexcept {
  if (budget_ == nullptr) {
    memory_ = memory;
    disk_ = disk;
    return true;
  }
  if (memory > memory_ && !budget_->take_memory(memory - memory_)) return false;
  if (disk > disk_ && !budget_->take_disk(disk - disk_)) {
    if (memory > memory_) budget_->give_memory(memory - memory_);
    return false;
  }
  if (memory < memory_) budget_->give_memory(memory_ - memory);
  if (disk < disk_) budget_->give_disk(disk_ - disk);
  memory_ = memory;
  disk_ = disk;
  return true;
}

std::string body_tmp_dir(const config::Settings& settings) {
  if (!settings.body_tmp_dir.empty()) return settings.body_tmp_dir;
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') return tmp;
  return "/var/tmp";
}

}  // namespace gthreadd::worker
