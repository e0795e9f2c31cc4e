// measure/internal/view_reader.h: page contents read through pread for the serial measurements.
//
// TDX and VBS hash every page on one thread, in file order. Reading a big mapped file's pages
// through the mapping stalls on this VM (base/file.h, MappedFile::readView), so with a source
// the pages are read a window of 256 KiB at a time, from the page asked for onwards: pages that
// follow each other in the file cost one read per window. Without a source, or for a view
// outside the mapping, the view is used as it is.
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
  explicit ViewReader(const MappedFile* source) : source_(source) {}

  // The bytes `view` shows; valid until the next call.
  Result<Bytes> read(Bytes view) {
    if (source_ == nullptr || view.empty()) {
      return view;
    }
    const auto at = reinterpret_cast<uintptr_t>(view.data());
    const auto window = reinterpret_cast<uintptr_t>(window_start_);
    if (window_start_ != nullptr && at >= window && at - window <= buffer_.size() &&
        view.size() <= buffer_.size() - (at - window)) {
      return Bytes(buffer_).subspan(at - window, view.size());
    }
    const Bytes file = source_->bytes();
    const auto begin = reinterpret_cast<uintptr_t>(file.data());
    if (at < begin || at - begin > file.size() || view.size() > file.size() - (at - begin)) {
      return view;  // not in the mapping
    }
    const size_t length = std::min<uint64_t>(std::max(kWindowBytes, view.size()),
                                             file.size() - (at - begin));
    buffer_.resize(length);
    window_start_ = view.data();
    if (Status s = source_->readView(Bytes(view.data(), length), buffer_); !s.ok()) {
      window_start_ = nullptr;
      return s.error();
    }
    return Bytes(buffer_).first(view.size());
  }

 private:
  static constexpr size_t kWindowBytes = 256 * 1024;
  const MappedFile* source_;
  const std::byte* window_start_ = nullptr;  // buffer_ holds the file's bytes from here on
  ByteVector buffer_;
};

}  // namespace igvmkit::measure::impl
