// igvm/testing/test_image.h: hand-assembled IGVM images for tests (testonly).
//
// A TestImage is a list of raw entries and a file data section, serialized without validation so
// tests can express every invalid file. Sizes, file offsets of linked data and the checksum are
// computed in bytes() unless a test overrides them. It shares no layout code with the writer.
//
//   TestImage t;                                       // v1, x64
//   t.platform(PlatformType::kSevSnp, 0x1);            // entry 0
//   size_t i = t.pageData(0x1001, 0x1);                // entry 1: a misaligned page
//   auto r = File::parse(t.bytes());                   // page_data.gpa_alignment at entryOffset(i)
#pragma once

#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "igvm/defs.h"
#include "igvm/file.h"

namespace igvmkit::igvm::testing {

class TestImage {
 public:
  struct RawEntry {
    uint32_t type = 0;
    ByteVector content;
    std::optional<uint32_t> length;  // written instead of content.size()
    uint8_t pad_byte = 0;
    std::vector<std::pair<size_t, uint32_t>> links;  // (content offset of a u32, data offset)
  };

  explicit TestImage(uint32_t version = kFormatVersion1, uint32_t arch = kArchX64)
      : version_(version), arch_(arch) {}

  // Raw entries -----------------------------------------------------------------------------------
  size_t addRaw(uint32_t type, ByteVector content) {
    entries_.push_back(RawEntry{type, std::move(content), std::nullopt, 0, {}});
    return entries_.size() - 1;
  }
  template <class T>
  size_t add(uint32_t type, const T& value) {
    ByteVector c;
    appendStruct(c, value);
    return addRaw(type, std::move(c));
  }
  RawEntry& entry(size_t i) { return entries_.at(i); }
  template <class T>
  T get(size_t i) const {
    T v;
    std::memcpy(&v, entries_.at(i).content.data(), sizeof(T));
    return v;
  }
  template <class T, class F>
  void edit(size_t i, F f) {
    T v = get<T>(i);
    f(v);
    std::memcpy(entries_.at(i).content.data(), &v, sizeof(T));
  }

  // Appends bytes to the file data section; returns their offset relative to its start.
  uint32_t addData(const ByteVector& bytes) {
    auto rel = static_cast<uint32_t>(data_.size());
    data_.insert(data_.end(), bytes.begin(), bytes.end());
    return rel;
  }
  // Makes the u32 at `field` in entry `i` hold the absolute offset of data offset `rel`.
  void link(size_t i, size_t field, uint32_t rel) { entries_.at(i).links.emplace_back(field, rel); }

  // Typical entries -------------------------------------------------------------------------------
  size_t platform(PlatformType type, uint32_t mask, uint8_t highest_vtl = 0) {
    IGVM_VHS_SUPPORTED_PLATFORM p{};
    p.compatibility_mask = mask;
    p.highest_vtl = highest_vtl;
    p.platform_type = static_cast<uint8_t>(type);
    p.platform_version = 1;
    return add(kVhtSupportedPlatform, p);
  }
  size_t pageData(uint64_t gpa, uint32_t mask, const ByteVector& data = {}, uint32_t flags = 0,
                  uint16_t data_type = 0) {
    IGVM_VHS_PAGE_DATA pd{};
    pd.gpa = gpa;
    pd.compatibility_mask = mask;
    pd.flags = flags;
    pd.data_type = data_type;
    size_t i = add(kVhtPageData, pd);
    if (!data.empty()) {
      link(i, offsetof(IGVM_VHS_PAGE_DATA, file_offset), addData(data));
    }
    return i;
  }
  size_t parameterArea(uint32_t index, uint64_t bytes) {
    IGVM_VHS_PARAMETER_AREA a{};
    a.number_of_bytes = bytes;
    a.parameter_area_index = index;
    return add(kVhtParameterArea, a);
  }
  size_t parameter(uint32_t type, uint32_t index, uint32_t byte_offset) {
    return add(type, IGVM_VHS_PARAMETER{index, byte_offset});
  }
  size_t parameterInsert(uint64_t gpa, uint32_t mask, uint32_t index) {
    IGVM_VHS_PARAMETER_INSERT pi{};
    pi.gpa = gpa;
    pi.compatibility_mask = mask;
    pi.parameter_area_index = index;
    return add(kVhtParameterInsert, pi);
  }
  // A VP_CONTEXT whose file data is `payload`.
  size_t vpContext(uint64_t gpa, uint32_t mask, uint16_t vp_index, const ByteVector& payload) {
    IGVM_VHS_VP_CONTEXT vp{};
    vp.gpa = gpa;
    vp.compatibility_mask = mask;
    vp.vp_index = vp_index;
    size_t i = add(kVhtVpContext, vp);
    link(i, offsetof(IGVM_VHS_VP_CONTEXT, file_offset), addData(payload));
    return i;
  }
  // A VBS register list payload: every register in `vtl`.
  static ByteVector vbsPayload(const std::vector<std::pair<uint32_t, uint64_t>>& regs,
                               uint8_t vtl = 0) {
    ByteVector out;
    appendStruct(out, VbsVpContextHeader{static_cast<uint32_t>(regs.size())});
    for (auto [name, value] : regs) {
      VbsVpContextRegister r{};
      r.vtl = vtl;
      r.register_name = name;
      std::memcpy(r.register_value, &value, sizeof(value));
      appendStruct(out, r);
    }
    return out;
  }

  // Layout --------------------------------------------------------------------------------------
  uint64_t fixedSize() const {
    return version_ == kFormatVersion1 ? sizeof(IGVM_FIXED_HEADER) : sizeof(IGVM_FIXED_HEADER_V2);
  }
  uint64_t vhOffset() const { return vh_offset.value_or(fixedSize()); }
  static uint64_t padded(uint64_t n) { return (n + 7) & ~uint64_t{7}; }
  uint64_t entryOffset(size_t i) const {
    uint64_t off = vhOffset();
    for (size_t k = 0; k < i; ++k) {
      off += 8 + padded(entries_[k].content.size());
    }
    return off;
  }
  uint64_t vhSize() const { return entryOffset(entries_.size()) - vhOffset(); }
  uint64_t dataStart() const { return vhOffset() + vhSize(); }

  // The image. Fields left unset are computed.
  ByteVector bytes() const {
    ByteVector out(vhOffset(), std::byte{0});
    uint64_t data_start = dataStart();
    for (const RawEntry& e : entries_) {
      ByteVector c = e.content;
      for (auto [field, rel] : e.links) {
        auto abs = static_cast<uint32_t>(data_start + rel);
        std::memcpy(c.data() + field, &abs, 4);
      }
      appendStruct(out, IGVM_VHS_VARIABLE_HEADER{
                            e.type, e.length.value_or(static_cast<uint32_t>(c.size()))});
      out.insert(out.end(), c.begin(), c.end());
      out.resize(out.size() + (padded(c.size()) - c.size()), std::byte{e.pad_byte});
    }
    out.insert(out.end(), data_.begin(), data_.end());
    IGVM_FIXED_HEADER_V2 f{};
    f.magic = magic;
    f.format_version = version_;
    f.variable_header_offset = static_cast<uint32_t>(vhOffset());
    f.variable_header_size = vh_size.value_or(static_cast<uint32_t>(vhSize()));
    f.total_file_size = total_size.value_or(static_cast<uint32_t>(out.size()));
    f.architecture = arch_;
    f.page_size = page_size;
    std::memcpy(out.data(), &f, fixedSize());
    uint32_t crc = checksumOf(out, fixedSize());
    if (checksum) {
      crc = *checksum;
    }
    std::memcpy(out.data() + kFixedOffChecksum, &crc, 4);
    return out;
  }

  // Recomputes the checksum of an image a test edited after bytes().
  static void reseal(ByteVector& image, uint64_t fixed_size) {
    uint32_t crc = checksumOf(image, fixed_size);
    std::memcpy(image.data() + kFixedOffChecksum, &crc, 4);
  }

  // Overrides (unset = computed).
  uint32_t magic = kIgvmMagic;
  uint32_t page_size = 0x1000;
  std::optional<uint32_t> vh_offset;
  std::optional<uint32_t> vh_size;
  std::optional<uint32_t> total_size;
  std::optional<uint32_t> checksum;

 private:
  static uint32_t checksumOf(const ByteVector& image, uint64_t fixed_size) {
    ByteVector fixed(image.begin(), image.begin() + static_cast<ptrdiff_t>(fixed_size));
    std::memset(fixed.data() + kFixedOffChecksum, 0, 4);
    uint32_t vh_off;
    uint32_t vh_len;
    std::memcpy(&vh_off, image.data() + kFixedOffVhOffset, 4);
    std::memcpy(&vh_len, image.data() + kFixedOffVhSize, 4);
    uint64_t end = std::min<uint64_t>(image.size(), uint64_t{vh_off} + vh_len);
    uint64_t begin = std::min<uint64_t>(vh_off, end);
    uint32_t crc = crc32(fixed);
    return crc32(Bytes(image).subspan(begin, end - begin), crc);
  }

  uint32_t version_;
  uint32_t arch_;
  std::vector<RawEntry> entries_;
  ByteVector data_;
};

}  // namespace igvmkit::igvm::testing
