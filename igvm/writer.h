// igvm/writer.h: an in-memory IGVM model and a deterministic, bit-exact writer.
//
// A Model lists the platform, initialization and directive headers in order, each an Entry: its
// raw type, its decoded struct (the same HeaderBody File::parse() produces) and the file data it
// refers to (owned bytes or a view). write() lays the file out exactly like the reference
// serializer (igvm-format.md §7.5): entries in order with zero padding, file data appended in
// header order and deduplicated, file_offset fields, sizes and the CRC computed. The same model
// always gives the same bytes. write() parses its own output with File::parse() before returning
// it, so it never returns a file that `igvmkit check` would reject.
//
//   igvm::Model m;
//   m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
//   m.add(igvm::pageDataEntry(0x1000, 0x1, igvm::Blob(page)));   // or makeEntry(type, struct)
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector bytes, igvm::write(m, {.version = 2}));
//
// writeTo() writes the same bytes to a sink (an output file) while the data of PAGE_DATA entries is
// produced (Entry::deferred), and reports each header as it is laid out, so a builder can measure
// the pages it streams without reading the file back.
//
// fromFile() turns a parsed file back into a model (data as views into the file), so
// write(fromFile(file), {.version = file.version()}) reproduces every file write() produced.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/memory.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "igvm/file.h"

namespace igvmkit::igvm {

// Bytes a model entry refers to: owned (shared, immutable) or a view the caller keeps alive.
class Blob {
 public:
  Blob() = default;
  Blob(ByteVector owned)  // NOLINT: implicit so entries take vectors directly
      : owned_(std::make_shared<const ByteVector>(std::move(owned))), view_(*owned_) {}
  static Blob view(Bytes bytes) {
    Blob b;
    b.view_ = bytes;
    return b;
  }
  Bytes bytes() const { return view_; }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }

 private:
  std::shared_ptr<const ByteVector> owned_;
  Bytes view_;
};

// One header of a model. file_offset (and CoRIM size_bytes) in `body` are ignored: the writer
// computes them from `data`.
struct Entry {
  uint32_t type = 0;  // raw IgvmVariableHeaderType
  HeaderBody body = UnknownHeader{};
  // PAGE_DATA: up to one page (zero padded); empty = page of zeros (file_offset 0).
  // PARAMETER_AREA: initial contents up to number_of_bytes (zero padded); empty = zeros.
  // VP_CONTEXT: the payload (VMSA / native / CCA up to 4 KiB, zero padded; VBS exact).
  // CORIM_*: the payload, exact. UnknownHeader: the entry's raw content.
  Blob data;
  // writeTo() only: the data is not in the model but asked of StreamHooks::data when the entry is
  // written (PAGE_DATA from a large input). `data` is then ignored.
  bool deferred = false;
};

// A model section: a big file's directives are hundreds of thousands of entries (base/memory.h).
using EntryList = HugeVector<Entry>;

template <class T>
Entry makeEntry(uint32_t type, const T& value, Blob data = {}) {
  return Entry{type, toBody(value), std::move(data)};
}

// Builders for the common entries (every other field zero).
Entry platformEntry(PlatformType type, uint32_t mask, uint8_t highest_vtl = 0,
                    uint64_t shared_gpa_boundary = 0);
Entry pageDataEntry(uint64_t gpa, uint32_t mask, Blob data = {}, uint32_t flags = 0,
                    PageDataType data_type = PageDataType::kNormal);
Entry parameterAreaEntry(uint32_t index, uint64_t number_of_bytes, Blob initial = {});
Entry parameterEntry(uint32_t type, uint32_t index, uint32_t byte_offset);  // 0x307..0x313
Entry parameterInsertEntry(uint64_t gpa, uint32_t mask, uint32_t index);
Entry vpContextEntry(uint64_t gpa, uint32_t mask, uint16_t vp_index, Blob payload);
// RELOCATABLE_REGION (flags: kRelocationFlag*) and PAGE_TABLE_RELOCATION_REGION (§2.6).
Entry relocatableRegionEntry(uint32_t mask, uint64_t gpa, uint64_t size, uint64_t alignment,
                             uint64_t minimum, uint64_t maximum, uint8_t flags,
                             uint16_t vp_index = 0, uint8_t vtl = 0);
Entry pageTableRelocationEntry(uint32_t mask, uint64_t gpa, uint64_t size, uint64_t used_size,
                               uint16_t vp_index = 0, uint8_t vtl = 0);
// A VBS register list payload (VbsVpContextHeader + registers), every register in `vtl`; each
// value is the low 64 bits of the 128-bit register value.
ByteVector vbsRegisterList(const std::vector<std::pair<uint32_t, uint64_t>>& name_values,
                           uint8_t vtl = 0);

struct Model {
  uint32_t architecture = kArchX64;  // kArchAArch64 needs format version 2
  EntryList platforms;
  EntryList initialization;
  EntryList directives;

  // Appends to the section of the entry's type range (unknown optional types: directives).
  void add(Entry e);
};

struct WriteOptions {
  uint32_t version = kFormatVersion1;  // 1 or 2
  // Passed to the validating parse of the output (see ParseOptions).
  bool allow_undeclared_mask_bits = false;
};

// The file bytes for `model`, validated. Errors: "write.*" rules for models that cannot be laid
// out, otherwise the parser's rule for the first invalid header (same index and offsets as in
// the written file).
Result<ByteVector> write(const Model& model, const WriteOptions& opts = {});

// Where writeTo() puts the file: data is appended as it is produced, then the header section
// (reserved as zeros) is written over once every file_offset is known.
class WriteSink {
 public:
  virtual ~WriteSink() = default;
  virtual Status append(Bytes bytes) = 0;
  virtual Status writeAt(uint64_t offset, Bytes bytes) = 0;
  // Bytes appended earlier (to compare a blob with an earlier one of the same hash).
  virtual Status readAt(uint64_t offset, std::span<std::byte> out) = 0;
};

struct StreamHooks {
  // The data of an Entry::deferred entry, asked for in model order; the bytes stay valid until the
  // next call. Empty = no file data (a page of zeros).
  std::function<Result<Bytes>(const Entry&)> data = nullptr;
  // Every header in file order, as File::parse() would give it (index, offset, body with its
  // file_offset, vp_format, data = the stored bytes, zero padded), once its data is in the sink.
  // The data of a deferred entry is valid only until the next StreamHooks::data call.
  std::function<Status(const Header&)> header = nullptr;
};

// The streaming form of write(): the same bytes, written to `sink` (empty at the start) in one
// pass over the model's data, which is never held whole. It does not validate the result: the
// caller parses what the sink holds (write() does so in memory). Returns the file size.
Result<uint64_t> writeTo(const Model& model, const WriteOptions& opts, WriteSink& sink,
                         const StreamHooks& hooks = {});

// The model of a parsed file; its data are views into file.bytes().
Model fromFile(const File& file);

}  // namespace igvmkit::igvm
