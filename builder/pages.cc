#include "builder/pages.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "builder/layout.h"

namespace igvmkit::builder {

namespace {
constexpr uint64_t kPage = layout::kPageSize;
}

Status PageSet::claim(uint64_t gpa, uint64_t size, std::string_view what, bool add_pages) {
  if (size == 0) {
    return okStatus();
  }
  if (gpa > std::numeric_limits<uint64_t>::max() - size) {
    return invalid("pages.overlap", std::string(what) + ": range " + hex(gpa) + " + " + hex(size) +
                                        " wraps around");
  }
  const uint64_t end = gpa + size;
  // The first claim starting at or after gpa, and the one before it.
  auto next = claims_.lower_bound(gpa);
  if (next != claims_.end() && next->first < end) {
    return invalid("pages.overlap", std::string(what) + " at [" + hex(gpa) + ", " + hex(end) +
                                        ") overlaps " + next->second.what + " at [" +
                                        hex(next->first) + ", " + hex(next->second.end) + ")");
  }
  if (next != claims_.begin()) {
    auto prev = std::prev(next);
    if (prev->second.end > gpa) {
      return invalid("pages.overlap", std::string(what) + " at [" + hex(gpa) + ", " + hex(end) +
                                          ") overlaps " + prev->second.what + " at [" +
                                          hex(prev->first) + ", " + hex(prev->second.end) + ")");
    }
  }
  claims_.emplace(gpa, Claim{end, std::string(what)});
  for (uint64_t page = gpa / kPage * kPage; add_pages && page < end; page += kPage) {
    pages_.try_emplace(page);
    if (page > std::numeric_limits<uint64_t>::max() - kPage) {
      break;
    }
  }
  return okStatus();
}

Status PageSet::write(uint64_t gpa, Bytes data, std::string_view what) {
  IGVMKIT_RETURN_IF_ERROR(claim(gpa, data.size(), what, true));
  uint64_t done = 0;
  while (done < data.size()) {
    const uint64_t at = gpa + done;
    const uint64_t page = at / kPage * kPage;
    const uint64_t in_page = at - page;
    const uint64_t n = std::min<uint64_t>(kPage - in_page, data.size() - done);
    ByteVector& bytes = pages_[page];
    if (bytes.empty()) {
      bytes.assign(kPage, std::byte{0});
    }
    std::memcpy(bytes.data() + in_page, data.data() + done, n);
    done += n;
  }
  return okStatus();
}

Status PageSet::zero(uint64_t gpa, uint64_t size, std::string_view what) {
  return claim(gpa, size, what, true);
}

Status PageSet::reserve(uint64_t gpa, uint64_t size, std::string_view what) {
  return claim(gpa, size, what, false);
}

std::vector<Page> PageSet::pages() const {
  std::vector<Page> out;
  out.reserve(pages_.size());
  for (const auto& [gpa, bytes] : pages_) {
    Page p;
    p.gpa = gpa;
    if (!allZero(bytes)) {
      p.bytes = bytes;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace igvmkit::builder
