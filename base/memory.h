// base/memory.h: big arrays without a page fault per 4 KiB.
//
// The first touch of each 4 KiB page of fresh memory is a page fault, and on a virtual machine
// that can be an exit to the hypervisor: 15 us per page on the project's machine, against 0.5 us
// per 4 KiB with a 2 MiB transparent huge page (bench/README.md, "page faults"). A 256 MiB
// `igvmkit build` took 8,300 such faults, mostly in a few arrays of several MiB: the parsed
// headers, the dedup index, the read and write buffers. Those arrays use HugePageAllocator: a
// block of 2 MiB or more is mapped on its own, 2 MiB-aligned, and the kernel is advised to back it
// with huge pages (madvise MADV_HUGEPAGE; only advice: with transparent huge pages disabled it
// behaves like any mapping). Smaller blocks come from operator new as usual.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace igvmkit {

namespace memory_detail {
inline constexpr size_t kHugePage = size_t{2} << 20;
// A 2 MiB-aligned mapping of `bytes` (a multiple of kHugePage), or nullptr.
void* mapHuge(size_t bytes);
void unmapHuge(void* block, size_t bytes);
}  // namespace memory_detail

template <class T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > max_size()) {
      throw std::bad_array_new_length();
    }
    const size_t bytes = n * sizeof(T);
    if (bytes < memory_detail::kHugePage) {
      return std::allocator<T>().allocate(n);
    }
    void* block = memory_detail::mapHuge(rounded(bytes));
    if (block == nullptr) {
      throw std::bad_alloc();
    }
    return static_cast<T*>(block);
  }

  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes < memory_detail::kHugePage) {
      std::allocator<T>().deallocate(p, n);
    } else {
      memory_detail::unmapHuge(p, rounded(bytes));
    }
  }

  static constexpr size_t max_size() noexcept { return (size_t{1} << 48) / sizeof(T); }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }

 private:
  static size_t rounded(size_t bytes) {
    return (bytes + memory_detail::kHugePage - 1) & ~(memory_detail::kHugePage - 1);
  }
};

// A vector whose storage, once it reaches 2 MiB, is huge-page backed.
template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace igvmkit
