// measure/internal/view_reader.h: page contents read through pread instead of the mapping.
//
// Reading a big mapped file's pages through the mapping stalls on this VM (base/file.h,
// MappedFile::readView), so with a source the pages are read into a window of this reader's own:
// one read fetches the page asked for and what follows it in the file, and pages that follow each
// other cost one read per window. The serial measurements (TDX, VBS) read ahead 256 KiB; SNP's
// hashing threads read exactly the run of pages they were given (parallel.cc). Without a source,
// or for a view outside the mapping, the view is used as it is.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/file.h"
#include "base/status.h"

namespace igvmkit::measure::impl {

class ViewReader {
 public:
  static constexpr size_t kWindowBytes = 256 * 1024;

  explicit ViewReader(const MappedFile* source) : source_(source) {}

  // Whether read(view) would read the file: there is a source and the window does not hold it.
  bool needsRead(Bytes view) const { return source_ != nullptr && !view.empty() && !holds(view); }

  // The bytes `view` shows; valid until the next call. When the window does not hold it, reads
  // `ahead` bytes from the view on (at least the view, at most to the file's end).
  Result<Bytes> read(Bytes view, size_t ahead = kWindowBytes) {
    if (source_ == nullptr || view.empty()) {
      return view;
    }
    const auto at = reinterpret_cast<uintptr_t>(view.data());
    if (holds(view)) {
      return Bytes(buffer_).subspan(at - reinterpret_cast<uintptr_t>(window_start_), view.size());
    }
    const Bytes file = source_->bytes();
    const auto begin = reinterpret_cast<uintptr_t>(file.data());
    if (at < begin || at - begin > file.size() || view.size() > file.size() - (at - begin)) {
      return view;  // not in the mapping
    }
    const size_t length =
        std::min<uint64_t>(std::max(ahead, view.size()), file.size() - (at - begin));
    buffer_.resize(length);
    window_start_ = view.data();
    if (Status s = source_->readView(Bytes(view.data(), length), buffer_); !s.ok()) {
      window_start_ = nullptr;
      return s.error();
    }
    return Bytes(buffer_).first(view.size());
  }

 private:
  bool holds(Bytes view) const {
    const auto at = reinterpret_cast<uintptr_t>(view.data());
    const auto window = reinterpret_cast<uintptr_t>(window_start_);
    return window_start_ != nullptr && at >= window && at - window <= buffer_.size() &&
           view.size() <= buffer_.size() - (at - window);
  }

  const MappedFile* source_;
  const std::byte* window_start_ = nullptr;  // buffer_ holds the file's bytes from here on
  ByteVector buffer_;
};

}  // namespace igvmkit::measure::impl
