#include "gthreadd/config/setting_source.hpp"

#include <set>

#include "gthreadd/config/command_line.hpp"

namespace gthreadd::config {

void apply_assignments(Settings& settings, const std::vector<Assignment>& assignments) {
  std::set<const SettingSpec*> cleared;
  for (const auto& a : assignments) {
    if (a.spec->clear && cleared.insert(a.spec).second) a.spec->clear(settings);
    if (auto error = a.spec->apply(settings, a.value); !error.empty()) {
      throw ConfigError(a.origin + ": setting '" + std::string(a.spec->name) + "': " + error);
    }
  }
}

}  // namespace gthreadd::config
