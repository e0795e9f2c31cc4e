// ovmf/testing/image_builder.h: small synthetic OVMF images for tests and the fuzz corpus. The
// image is zeros except for the footer table (ending 0x20 bytes before the end), the "ASEV" and
// "TDVF" tables the entries point to, and whatever the test pokes in with put().
//
//   ByteVector image = ovmf::testing::ImageBuilder(0x2000)
//                          .resetBlock(0xffffb004)
//                          .sevMetadata({{0x800000, 0x9000, ovmf::SevSectionType::kSnpSecMem}})
//                          .build();
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "ovmf/defs.h"
#include "ovmf/ovmf.h"

namespace igvmkit::ovmf::testing {

class ImageBuilder {
 public:
  explicit ImageBuilder(size_t image_size = 0x2000) : size_(image_size) {}

  // An entry with raw data; entries are laid out in call order, the first nearest the footer.
  ImageBuilder& entry(const Guid& guid, ByteVector data) {
    entries_.push_back({guid, std::move(data)});
    return *this;
  }
  ImageBuilder& u32Entry(const Guid& guid, uint32_t value) {
    ByteVector d(4);
    std::memcpy(d.data(), &value, 4);
    return entry(guid, std::move(d));
  }
  ImageBuilder& areaEntry(const Guid& guid, uint32_t gpa, uint32_t size) {
    ByteVector d(8);
    std::memcpy(d.data(), &gpa, 4);
    std::memcpy(d.data() + 4, &size, 4);
    return entry(guid, std::move(d));
  }
  ImageBuilder& resetBlock(uint32_t eip) { return u32Entry(kSevEsResetBlockGuid, eip); }

  // "ASEV" at kSevMetadataOffset with these sections, and its table entry.
  ImageBuilder& sevMetadata(const std::vector<SevSection>& sections) {
    sev_ = sections;
    has_sev_ = true;
    return u32Entry(kSevMetadataGuid, static_cast<uint32_t>(size_ - kSevMetadataOffset));
  }
  // "TDVF" at kTdxMetadataOffset with these sections, and its table entry.
  ImageBuilder& tdxMetadata(const std::vector<TdvfSection>& sections) {
    tdx_ = sections;
    has_tdx_ = true;
    return u32Entry(kTdxMetadataGuid, static_cast<uint32_t>(size_ - kTdxMetadataOffset));
  }
  // Raw bytes at an offset, written last (for corrupt-table tests and page contents).
  ImageBuilder& put(size_t offset, ByteVector bytes) {
    puts_.push_back({offset, std::move(bytes)});
    return *this;
  }

  static constexpr size_t kSevMetadataOffset = 0x100;
  static constexpr size_t kTdxMetadataOffset = 0x300;

  ByteVector build() const {
    ByteVector out(size_);
    size_t end = size_ - kFooterTableEndFromImageEnd - sizeof(OVMF_FOOTER_TABLE_ENTRY);
    const size_t footer_off = end;
    size_t total = sizeof(OVMF_FOOTER_TABLE_ENTRY);
    for (const auto& [guid, data] : entries_) {
      OVMF_FOOTER_TABLE_ENTRY tail{};
      tail.size = static_cast<uint16_t>(data.size() + sizeof(tail));
      std::memcpy(tail.guid, guid.bytes.data(), 16);
      end -= sizeof(tail);
      std::memcpy(out.data() + end, &tail, sizeof(tail));
      end -= data.size();
      std::memcpy(out.data() + end, data.data(), data.size());
      total += tail.size;
    }
    OVMF_FOOTER_TABLE_ENTRY footer{};
    footer.size = static_cast<uint16_t>(total);
    std::memcpy(footer.guid, kFooterGuid.bytes.data(), 16);
    std::memcpy(out.data() + footer_off, &footer, sizeof(footer));
    if (has_sev_) {
      OVMF_SEV_METADATA_HEADER h{};
      std::memcpy(h.signature, "ASEV", 4);
      h.size = static_cast<uint32_t>(sizeof(h) + sev_.size() * 12);
      h.version = 1;
      h.num_items = static_cast<uint32_t>(sev_.size());
      std::memcpy(out.data() + kSevMetadataOffset, &h, sizeof(h));
      for (size_t i = 0; i < sev_.size(); ++i) {
        OVMF_SEV_METADATA_SECTION_DESC d{sev_[i].gpa, sev_[i].size,
                                         static_cast<uint32_t>(sev_[i].type)};
        std::memcpy(out.data() + kSevMetadataOffset + sizeof(h) + i * sizeof(d), &d, sizeof(d));
      }
    }
    if (has_tdx_) {
      TDVF_METADATA_HEADER h{kTdvfSignature,
                             static_cast<uint32_t>(sizeof(h) + tdx_.size() * 32), 1,
                             static_cast<uint32_t>(tdx_.size())};
      std::memcpy(out.data() + kTdxMetadataOffset, &h, sizeof(h));
      for (size_t i = 0; i < tdx_.size(); ++i) {
        const TdvfSection& s = tdx_[i];
        TDVF_SECTION_ENTRY e{s.data_offset, s.raw_data_size, s.memory_address,
                             s.memory_data_size, static_cast<uint32_t>(s.type), s.attributes};
        std::memcpy(out.data() + kTdxMetadataOffset + sizeof(h) + i * sizeof(e), &e, sizeof(e));
      }
    }
    for (const auto& [offset, bytes] : puts_) {
      std::memcpy(out.data() + offset, bytes.data(), bytes.size());
    }
    return out;
  }

 private:
  size_t size_;
  std::vector<std::pair<Guid, ByteVector>> entries_;
  bool has_sev_ = false;
  std::vector<SevSection> sev_;
  bool has_tdx_ = false;
  std::vector<TdvfSection> tdx_;
  std::vector<std::pair<size_t, ByteVector>> puts_;
};

// Little-endian bytes of a value, for put().
template <class T>
ByteVector le(T value) {
  ByteVector out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

inline ByteVector toVector(std::string_view text) {
  Bytes b = toBytes(text);
  return ByteVector(b.begin(), b.end());
}

}  // namespace igvmkit::ovmf::testing
