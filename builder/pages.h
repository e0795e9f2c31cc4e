// builder/pages.h: guest memory contents assembled from byte ranges, emitted as 4 KiB pages.
//
// Components write bytes at guest addresses (an ELF segment, a kernel, a zero page); PageSet
// refuses a write that touches bytes another write already claimed, naming both, and hands out
// the result as whole pages in address order, ready to become IGVM PAGE_DATA directives. Pages
// that only zero-filled ranges touched carry no bytes (IGVM "no file data" = a page of zeros), so
// a large .bss costs no memory.
//
//   PageSet pages;
//   IGVMKIT_RETURN_IF_ERROR(pages.write(0x100000, segment.data, "payload segment 0"));
//   IGVMKIT_RETURN_IF_ERROR(pages.zero(0x100000 + segment.data.size(), bss_size, "payload bss"));
//   for (const Page& p : pages.pages()) { writer.pageData(p.gpa, p.bytes); }
//
// Error rule: pages.overlap.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit::builder {

struct Page {
  uint64_t gpa = 0;
  ByteVector bytes;  // 4096 bytes, or empty for a page of zeros
};

class PageSet {
 public:
  // Copies `data` to [gpa, gpa + data.size()).
  Status write(uint64_t gpa, Bytes data, std::string_view what);
  // Claims [gpa, gpa + size) as zeros.
  Status zero(uint64_t gpa, uint64_t size, std::string_view what);
  // Claims [gpa, gpa + size) for overlap checks only: no pages (memory something else fills).
  Status reserve(uint64_t gpa, uint64_t size, std::string_view what);

  // Every touched page in address order; bytes not written within a page are zero.
  std::vector<Page> pages() const;
  size_t pageCount() const { return pages_.size(); }

 private:
  Status claim(uint64_t gpa, uint64_t size, std::string_view what, bool add_pages);

  struct Claim {
    uint64_t end;
    std::string what;
  };
  std::map<uint64_t, Claim> claims_;       // start -> claim; disjoint
  std::map<uint64_t, ByteVector> pages_;   // page gpa -> bytes (empty = zeros so far)
};

}  // namespace igvmkit::builder
