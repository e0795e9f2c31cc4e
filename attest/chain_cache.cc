#include "attest/chain_cache.h"

namespace igvmkit::attest {

std::vector<Check> ChainCache::get(const std::string& key,
                                   const std::function<std::vector<Check>()>& compute) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Entry>& slot = entries_[key];
    if (!slot) slot = std::make_shared<Entry>();
    entry = slot;
  }
  bool ran = false;
  std::call_once(entry->once, [&] {
    entry->checks = compute();
    ran = true;
  });
  ++(ran ? computed_ : reused_);
  return entry->checks;
}

}  // namespace igvmkit::attest
