#include "base/memory.h"

#include <sys/mman.h>

#include <cstdint>

namespace igvmkit::memory_detail {

void* mapHuge(size_t bytes) {
  // Over-map by one huge page, then unmap the unaligned head and the tail.
  const size_t span = bytes + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return nullptr;
  }
  const auto begin = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (begin + kHugePage - 1) & ~uintptr_t{kHugePage - 1};
  if (aligned > begin) {
    ::munmap(raw, aligned - begin);
  }
  const uintptr_t end = begin + span;
  if (end > aligned + bytes) {
    ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
  }
  void* block = reinterpret_cast<void*>(aligned);
  // Best effort: EINVAL on a kernel without transparent huge pages changes nothing.
  ::madvise(block, bytes, MADV_HUGEPAGE);
  return block;
}

void unmapHuge(void* block, size_t bytes) { ::munmap(block, bytes); }

}  // namespace igvmkit::memory_detail
