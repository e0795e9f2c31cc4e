// base/file.h: reading inputs and writing outputs.
//
// MappedFile maps a file read-only so parsers can hold views into it without copying (a 1 GiB
// IGVM file costs no memory until its pages are touched):
//   IGVMKIT_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
//   IGVMKIT_ASSIGN_OR_RETURN(igvm::File file, igvm::File::parse(mapped.bytes()));
#pragma once

#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace igvmkit {

class MappedFile {
 public:
  // Maps `path` read-only; an empty file gives an empty view. Errors are kUnreadable.
  static Result<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  Bytes bytes() const { return Bytes(static_cast<const std::byte*>(data_), size_); }

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}
  void* data_ = nullptr;
  size_t size_ = 0;
};

// The whole file as bytes (for small inputs: keys, certificates, manifests).
Result<ByteVector> readFile(const std::string& path);
Result<std::string> readTextFile(const std::string& path);

// Writes atomically: a temporary file beside `path`, then rename, so a failed run never leaves a
// partial output behind.
Status writeFile(const std::string& path, Bytes bytes);

}  // namespace igvmkit
