#include "igvm/writer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/memory.h"

namespace igvmkit::igvm {
namespace {

// The stored blobs by content, for deduplication: an open-addressing table of (fingerprint,
// offset, length), sized once for the number of entries. A fingerprint only picks candidates;
// the writer compares bytes before it reuses one, so a collision costs a comparison, never a
// wrong file. Page data is most of a big file, so the fingerprint reads 64 bytes per step in eight
// independent lanes (several times the speed of std::hash's serial chain) and a flat table
// replaces a node per blob.
class BlobIndex {
 public:
  struct Blob {
    uint32_t offset = 0;  // absolute, in the file (the writer keeps files under 4 GiB)
    uint32_t length = 0;  // never 0: empty data is not stored
  };

  static uint64_t fingerprint(Bytes content) {
    // Eight lanes, each adding the product of its word's halves (keyed) and the word itself, as
    // XXH3's accumulate step does: the lanes are independent and the compiler vectorises them
    // (twice the speed of four multiply-xor chains; this runs on the writer's critical path).
    static constexpr std::array<uint64_t, 8> kKey = {
        0xBE4B'A423'396C'FEB8, 0x1CAD'21F7'2C81'017C, 0xDB97'9083'E96D'D4DE,
        0x1F67'B3B7'A4A4'4072, 0x78E5'C0CC'4EE6'79CB, 0x2172'FFCC'7DD0'5A82,
        0x8E24'43F7'7446'08B8, 0x4C26'3A81'E690'35E0};
    constexpr uint64_t kMul = 0x9E37'79B9'7F4A'7C15;
    std::array<uint64_t, 8> lane = {1, 2, 3, 4, 5, 6, 7, 8};
    const std::byte* p = content.data();
    size_t n = content.size();
    for (; n >= 64; p += 64, n -= 64) {
      std::array<uint64_t, 8> word;
      std::memcpy(word.data(), p, 64);
      for (size_t k = 0; k < 8; ++k) {
        const uint64_t keyed = word[k] ^ kKey[k];
        lane[k] += (keyed & 0xFFFF'FFFF) * (keyed >> 32) + word[k];
      }
    }
    uint64_t h = content.size() * kMul;
    for (; n > 0; ++p, --n) {
      h = (h ^ std::to_integer<uint64_t>(*p)) * kMul;
    }
    for (uint64_t l : lane) {
      h = (h ^ l) * kMul;
      h ^= h >> 32;
    }
    return h;
  }

  // Room for `blobs` without growing (at most three quarters full).
  void reserve(size_t blobs) {
    size_t capacity = 16;
    while (capacity / 4 * 3 < blobs) {
      capacity *= 2;
    }
    if (capacity > slots_.size()) {
      HugeVector<Slot> old = std::move(slots_);
      slots_.assign(capacity, Slot{});
      for (const Slot& s : old) {
        if (s.blob.length != 0) {
          place(s);
        }
      }
    }
  }

  // Calls `same(blob)` for each stored blob whose fingerprint is `h`, until it returns true.
  template <class Same>
  Result<std::optional<Blob>> find(uint64_t h, Same&& same) const {
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.blob.length == 0) {
        return std::optional<Blob>();
      }
      if (s.fingerprint == h) {
        IGVMKIT_ASSIGN_OR_RETURN(bool match, same(s.blob));
        if (match) {
          return std::optional<Blob>(s.blob);
        }
      }
    }
  }

  void add(uint64_t h, Blob blob) {
    if (4 * (count_ + 1) > 3 * slots_.size()) {  // only when the writer's reserve() fell short
      reserve(count_ + 1);
    }
    place(Slot{h, blob});
    ++count_;
  }

 private:
  struct Slot {
    uint64_t fingerprint = 0;
    Blob blob;  // length 0: a free slot
  };
  static_assert(sizeof(Slot) == 16);  // a big file's index: 16 bytes per page, 3/4 full
  void place(const Slot& slot) {
    size_t i = slot.fingerprint & (slots_.size() - 1);
    while (slots_[i].blob.length != 0) {
      i = (i + 1) & (slots_.size() - 1);
    }
    slots_[i] = slot;
  }

  HugeVector<Slot> slots_ = HugeVector<Slot>(16);  // base/memory.h: 16 bytes per page
  size_t count_ = 0;
};

// True when the decoded struct in `body` is the one `type` carries.
bool bodyMatches(uint32_t type, const HeaderBody& body) {
  auto is = [&body]<class T>() { return std::holds_alternative<T>(body); };
  if ((type & kVhtOptionalBit) != 0 && headerContentSize(type) == 0) {
    return is.operator()<UnknownHeader>();
  }
  if (isParameterType(type)) {
    return is.operator()<IGVM_VHS_PARAMETER>();
  }
  switch (type) {
    case kVhtSupportedPlatform: return is.operator()<IGVM_VHS_SUPPORTED_PLATFORM>();
    case kVhtGuestPolicy: return is.operator()<IGVM_VHS_GUEST_POLICY>();
    case kVhtRelocatableRegion: return is.operator()<IGVM_VHS_RELOCATABLE_REGION>();
    case kVhtPageTableRelocationRegion: return is.operator()<IGVM_VHS_PAGE_TABLE_RELOCATION>();
    case kVhtCorimDocument:
    case kVhtCorimSignature: return is.operator()<IGVM_VHS_CORIM_DATA>();
    case kVhtCcaPolicy: return is.operator()<IGVM_VHS_CCA_POLICY>();
    case kVhtParameterArea: return is.operator()<IGVM_VHS_PARAMETER_AREA>();
    case kVhtPageData: return is.operator()<IGVM_VHS_PAGE_DATA>();
    case kVhtParameterInsert: return is.operator()<IGVM_VHS_PARAMETER_INSERT>();
    case kVhtVpContext: return is.operator()<IGVM_VHS_VP_CONTEXT>();
    case kVhtRequiredMemory: return is.operator()<IGVM_VHS_REQUIRED_MEMORY>();
    case kVhtSnpIdBlock: return is.operator()<Boxed<IGVM_VHS_SNP_ID_BLOCK>>();
    case kVhtErrorRange: return is.operator()<IGVM_VHS_ERROR_RANGE>();
    case kVhtVbsMeasurement: return is.operator()<Boxed<IGVM_VHS_VBS_MEASUREMENT>>();
    default: return false;
  }
}

uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

// The file data section as a byte vector (write()).
class VectorSink : public WriteSink {
 public:
  explicit VectorSink(ByteVector& out) : out_(out) {}
  Status append(Bytes bytes) override {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return okStatus();
  }
  Status writeAt(uint64_t offset, Bytes bytes) override {
    std::memcpy(out_.data() + offset, bytes.data(), bytes.size());
    return okStatus();
  }
  Status readAt(uint64_t offset, std::span<std::byte> out) override {
    std::memcpy(out.data(), out_.data() + offset, out.size());
    return okStatus();
  }

 private:
  ByteVector& out_;
};

// The VP context format File::parse() gives a context of platform type + 1 `type_plus_one`.
VpContextFormat vpFormatOf(uint8_t type_plus_one, uint32_t architecture) {
  if (type_plus_one == 0) {
    return VpContextFormat::kNone;
  }
  switch (static_cast<PlatformType>(type_plus_one - 1)) {
    case PlatformType::kSevSnp:
    case PlatformType::kSevEs: return VpContextFormat::kSnpVmsa;
    case PlatformType::kNative:
    case PlatformType::kSev: return VpContextFormat::kNativeX64;
    case PlatformType::kCca: return VpContextFormat::kCca;
    case PlatformType::kVsmIsolation:
      return architecture == kArchAArch64 ? VpContextFormat::kVbsAArch64
                                          : VpContextFormat::kVbsX64;
    default: return VpContextFormat::kNone;
  }
}

class Writer {
 public:
  Writer(const Model& model, const WriteOptions& opts, WriteSink& sink, const StreamHooks& hooks)
      : model_(model), opts_(opts), sink_(sink), hooks_(hooks) {}

  // Lays the file out into the sink; returns its size.
  Result<uint64_t> run() {
    if (opts_.version != kFormatVersion1 && opts_.version != kFormatVersion2) {
      return invalid("write.version",
                     "format version " + hex(opts_.version) + " is neither 1 nor 2");
    }
    if (model_.architecture != kArchX64 && model_.architecture != kArchAArch64) {
      return invalid("write.version",
                     "architecture " + hex(model_.architecture) + " is neither x64 nor aarch64");
    }
    if (model_.architecture == kArchAArch64 && opts_.version == kFormatVersion1) {
      return invalid("write.version", "aarch64 files need format version 2");
    }
    fixed_size_ =
        opts_.version == kFormatVersion1 ? sizeof(IGVM_FIXED_HEADER) : sizeof(IGVM_FIXED_HEADER_V2);

    // Platform bit -> type, to tell how VP context data is padded.
    for (const Entry& e : model_.platforms) {
      if (const auto* p = std::get_if<IGVM_VHS_SUPPORTED_PLATFORM>(&e.body);
          p != nullptr && std::popcount(p->compatibility_mask) == 1) {
        bit_type_[std::countr_zero(p->compatibility_mask)] = p->platform_type + 1;
      }
    }

    // Pass 1: the variable header section's size fixes where file data starts. It depends on the
    // entries only, not on their data, so data can be streamed after it.
    uint64_t vh_size = 0;
    uint32_t index = 0;
    for (const EntryList* section :
         {&model_.platforms, &model_.initialization, &model_.directives}) {
      for (const Entry& e : *section) {
        if (!bodyMatches(e.type, e.body)) {
          return invalid("write.body", "entry #" + std::to_string(index) + " of type " +
                                           hex(e.type) + " holds another header's structure");
        }
        if (e.deferred && std::holds_alternative<UnknownHeader>(e.body)) {
          return invalid("write.body", "entry #" + std::to_string(index) +
                                           " is an unknown header and cannot defer its data");
        }
        uint64_t length = std::holds_alternative<UnknownHeader>(e.body)
                              ? e.data.size()
                              : headerContentSize(e.type);
        vh_size += sizeof(IGVM_VHS_VARIABLE_HEADER) + align8(length);
        ++index;
      }
    }
    dedup_.reserve(index);
    data_start_ = fixed_size_ + vh_size;
    if (data_start_ > std::numeric_limits<uint32_t>::max()) {
      return invalid("write.too_large", "variable header section of " + hex(vh_size) +
                                            " bytes does not fit a 32-bit file");
    }

    // Pass 2: room for the headers, then each entry's data appended as the entries are laid out
    // into `vh`.
    static constexpr std::array<std::byte, 64 * 1024> kZeros{};
    for (uint64_t left = data_start_; left > 0;) {
      const uint64_t n = std::min<uint64_t>(left, kZeros.size());
      IGVMKIT_RETURN_IF_ERROR(sink_.append(Bytes(kZeros).first(n)));
      left -= n;
    }
    size_ = data_start_;
    HugeVector<std::byte> vh;
    vh.reserve(vh_size);
    index = 0;
    for (const EntryList* section :
         {&model_.platforms, &model_.initialization, &model_.directives}) {
      for (const Entry& e : *section) {
        IGVMKIT_RETURN_IF_ERROR(writeEntry(vh, e, index++));
      }
    }
    if (size_ > std::numeric_limits<uint32_t>::max()) {
      return invalid("write.too_large",
                     "file of " + hex(size_) + " bytes does not fit 32-bit offsets");
    }

    IGVM_FIXED_HEADER_V2 fixed{};
    fixed.magic = kIgvmMagic;
    fixed.format_version = opts_.version;
    fixed.variable_header_offset = static_cast<uint32_t>(fixed_size_);
    fixed.variable_header_size = static_cast<uint32_t>(vh_size);
    fixed.total_file_size = static_cast<uint32_t>(size_);
    fixed.checksum = 0;
    fixed.architecture = model_.architecture;
    fixed.page_size = kPageSize4K;
    // The CRC covers the fixed header (checksum zero) and the headers; the two parts are written
    // where they go rather than copied together first.
    fixed.checksum = crc32(vh, crc32(asBytes(fixed).subspan(0, fixed_size_)));
    IGVMKIT_RETURN_IF_ERROR(sink_.writeAt(0, asBytes(fixed).subspan(0, fixed_size_)));
    IGVMKIT_RETURN_IF_ERROR(sink_.writeAt(fixed_size_, vh));
    return size_;
  }

 private:
  // Appends `content` (already padded) to the data section, or reuses an identical earlier blob;
  // returns its absolute offset.
  Result<uint32_t> addBlob(Bytes content) {
    const uint64_t h = BlobIndex::fingerprint(content);
    IGVMKIT_ASSIGN_OR_RETURN(
        std::optional<BlobIndex::Blob> earlier,
        dedup_.find(h, [&](BlobIndex::Blob b) -> Result<bool> {
          if (b.length != content.size()) {
            return false;
          }
          compare_.resize(b.length);
          IGVMKIT_RETURN_IF_ERROR(sink_.readAt(b.offset, compare_));
          return std::memcmp(compare_.data(), content.data(), b.length) == 0;
        }));
    if (earlier) {
      return static_cast<uint32_t>(earlier->offset);
    }
    uint64_t abs = size_;
    if (abs + content.size() > std::numeric_limits<uint32_t>::max()) {
      return invalid("write.too_large", "file data beyond 4 GiB cannot be addressed");
    }
    dedup_.add(h, {static_cast<uint32_t>(abs), static_cast<uint32_t>(content.size())});
    IGVMKIT_RETURN_IF_ERROR(sink_.append(content));
    size_ += content.size();
    return static_cast<uint32_t>(abs);
  }

  // `data` zero padded to `size` (a view of `data` itself when no padding is needed).
  Bytes padded(Bytes data, uint64_t size) {
    if (size == data.size()) {
      return data;
    }
    padding_.assign(data.begin(), data.end());
    padding_.resize(size);
    return padding_;
  }

  Status tooBig(const char* what, uint64_t have, uint64_t max) {
    return invalid("write.data_size", std::string(what) + " data of " + hex(have) +
                                          " bytes exceeds " + hex(max));
  }

  Status writeEntry(HugeVector<std::byte>& vh, const Entry& e, uint32_t index) {
    HeaderBody body = e.body;
    Bytes data = e.data.bytes();
    if (e.deferred) {
      if (!hooks_.data) {
        return invalid("write.body", "entry #" + std::to_string(index) +
                                         " defers its data but nothing supplies it");
      }
      IGVMKIT_ASSIGN_OR_RETURN(data, hooks_.data(e));
    }
    Bytes stored;  // what the file holds for the entry (the header's data)
    VpContextFormat vp_format = VpContextFormat::kNone;
    if (auto* pd = std::get_if<IGVM_VHS_PAGE_DATA>(&body)) {
      uint64_t size = (pd->flags & kPageDataFlagIs2MbPage) != 0 ? kPageSize2M : kPageSize4K;
      if (data.size() > size) {
        return tooBig("page", data.size(), size);
      }
      pd->file_offset = 0;
      if (!data.empty()) {
        stored = padded(data, size);
        IGVMKIT_ASSIGN_OR_RETURN(pd->file_offset, addBlob(stored));
      }
    } else if (auto* pa = std::get_if<IGVM_VHS_PARAMETER_AREA>(&body)) {
      if (data.size() > pa->number_of_bytes) {
        return tooBig("parameter area", data.size(), pa->number_of_bytes);
      }
      pa->file_offset = 0;
      if (!data.empty()) {
        if (pa->number_of_bytes > std::numeric_limits<uint32_t>::max()) {
          return invalid("write.too_large", "parameter area of " + hex(pa->number_of_bytes) +
                                                " bytes cannot be stored in the file");
        }
        stored = padded(data, pa->number_of_bytes);
        IGVMKIT_ASSIGN_OR_RETURN(pa->file_offset, addBlob(stored));
      }
    } else if (auto* vp = std::get_if<IGVM_VHS_VP_CONTEXT>(&body)) {
      uint8_t type_plus_one = 0;
      if (std::popcount(vp->compatibility_mask) == 1) {
        type_plus_one = bit_type_[std::countr_zero(vp->compatibility_mask)];
      }
      vp_format = vpFormatOf(type_plus_one, model_.architecture);
      bool vbs = type_plus_one == static_cast<uint8_t>(PlatformType::kVsmIsolation) + 1;
      uint64_t size = vbs ? data.size() : std::max<uint64_t>(data.size(), kPageSize4K);
      if (!vbs && data.size() > kPageSize4K) {
        return tooBig("VP context", data.size(), kPageSize4K);
      }
      vp->file_offset = 0;
      if (!data.empty()) {
        stored = padded(data, size);
        IGVMKIT_ASSIGN_OR_RETURN(vp->file_offset, addBlob(stored));
      }
    } else if (auto* c = std::get_if<IGVM_VHS_CORIM_DATA>(&body)) {
      c->file_offset = 0;
      c->size_bytes = static_cast<uint32_t>(data.size());
      if (data.size() > std::numeric_limits<uint32_t>::max()) {
        return tooBig("CoRIM", data.size(), std::numeric_limits<uint32_t>::max());
      }
      if (!data.empty()) {
        stored = data;
        IGVMKIT_ASSIGN_OR_RETURN(c->file_offset, addBlob(stored));
      }
    }

    ByteVector content;
    std::visit(
        [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, UnknownHeader>) {
            content.assign(data.begin(), data.end());
          } else if constexpr (std::is_same_v<T, Boxed<IGVM_VHS_SNP_ID_BLOCK>> ||
                               std::is_same_v<T, Boxed<IGVM_VHS_VBS_MEASUREMENT>>) {
            appendStruct(content, *b);
          } else {
            appendStruct(content, b);
          }
        },
        body);
    const uint64_t offset = fixed_size_ + vh.size();
    IGVM_VHS_VARIABLE_HEADER tl{e.type, static_cast<uint32_t>(content.size())};
    appendStruct(vh, tl);
    vh.insert(vh.end(), content.begin(), content.end());
    vh.resize(vh.size() + (align8(content.size()) - content.size()));
    if (hooks_.header) {
      Header h;
      h.index = index;
      h.offset = offset;
      h.type = e.type;
      h.section = sectionOfType(e.type).value_or(Section::kDirective);
      h.body = std::move(body);
      h.data = stored;
      h.vp_format = vp_format;
      if (auto* u = std::get_if<UnknownHeader>(&h.body)) {
        h.data = {};
        u->content = Bytes(vh).subspan(offset - fixed_size_ + sizeof(tl), content.size());
      }
      IGVMKIT_RETURN_IF_ERROR(hooks_.header(h));
    }
    return okStatus();
  }

  const Model& model_;
  const WriteOptions& opts_;
  WriteSink& sink_;
  const StreamHooks& hooks_;
  std::array<uint8_t, 32> bit_type_{};  // platform type + 1, 0 = undeclared
  uint64_t fixed_size_ = 0;
  uint64_t data_start_ = 0;
  uint64_t size_ = 0;  // bytes in the sink
  ByteVector padding_;  // a zero-padded copy of a short blob
  ByteVector compare_;  // an earlier blob read back for the dedup comparison
  BlobIndex dedup_;  // each stored blob's absolute offset and length, by content
};

}  // namespace

Entry platformEntry(PlatformType type, uint32_t mask, uint8_t highest_vtl,
                    uint64_t shared_gpa_boundary) {
  IGVM_VHS_SUPPORTED_PLATFORM p{};
  p.compatibility_mask = mask;
  p.highest_vtl = highest_vtl;
  p.platform_type = static_cast<uint8_t>(type);
  p.platform_version = kPlatformVersion;
  p.shared_gpa_boundary = shared_gpa_boundary;
  return makeEntry(kVhtSupportedPlatform, p);
}

Entry pageDataEntry(uint64_t gpa, uint32_t mask, Blob data, uint32_t flags,
                    PageDataType data_type) {
  IGVM_VHS_PAGE_DATA pd{};
  pd.gpa = gpa;
  pd.compatibility_mask = mask;
  pd.flags = flags;
  pd.data_type = static_cast<uint16_t>(data_type);
  return makeEntry(kVhtPageData, pd, std::move(data));
}

Entry parameterAreaEntry(uint32_t index, uint64_t number_of_bytes, Blob initial) {
  IGVM_VHS_PARAMETER_AREA a{};
  a.number_of_bytes = number_of_bytes;
  a.parameter_area_index = index;
  return makeEntry(kVhtParameterArea, a, std::move(initial));
}

Entry parameterEntry(uint32_t type, uint32_t index, uint32_t byte_offset) {
  return makeEntry(type, IGVM_VHS_PARAMETER{index, byte_offset});
}

Entry parameterInsertEntry(uint64_t gpa, uint32_t mask, uint32_t index) {
  IGVM_VHS_PARAMETER_INSERT pi{};
  pi.gpa = gpa;
  pi.compatibility_mask = mask;
  pi.parameter_area_index = index;
  return makeEntry(kVhtParameterInsert, pi);
}

Entry vpContextEntry(uint64_t gpa, uint32_t mask, uint16_t vp_index, Blob payload) {
  IGVM_VHS_VP_CONTEXT vp{};
  vp.gpa = gpa;
  vp.compatibility_mask = mask;
  vp.vp_index = vp_index;
  return makeEntry(kVhtVpContext, vp, std::move(payload));
}

Entry relocatableRegionEntry(uint32_t mask, uint64_t gpa, uint64_t size, uint64_t alignment,
                             uint64_t minimum, uint64_t maximum, uint8_t flags, uint16_t vp_index,
                             uint8_t vtl) {
  IGVM_VHS_RELOCATABLE_REGION r{};
  r.compatibility_mask = mask;
  r.vp_index = vp_index;
  r.vtl = vtl;
  r.flags = flags;
  r.relocation_alignment = alignment;
  r.relocation_region_gpa = gpa;
  r.relocation_region_size = size;
  r.minimum_relocation_gpa = minimum;
  r.maximum_relocation_gpa = maximum;
  return makeEntry(kVhtRelocatableRegion, r);
}

Entry pageTableRelocationEntry(uint32_t mask, uint64_t gpa, uint64_t size, uint64_t used_size,
                               uint16_t vp_index, uint8_t vtl) {
  IGVM_VHS_PAGE_TABLE_RELOCATION r{};
  r.compatibility_mask = mask;
  r.vp_index = vp_index;
  r.vtl = vtl;
  r.gpa = gpa;
  r.size = size;
  r.used_size = used_size;
  return makeEntry(kVhtPageTableRelocationRegion, r);
}

ByteVector vbsRegisterList(const std::vector<std::pair<uint32_t, uint64_t>>& name_values,
                           uint8_t vtl) {
  ByteVector out;
  appendStruct(out, VbsVpContextHeader{static_cast<uint32_t>(name_values.size())});
  for (auto [name, value] : name_values) {
    VbsVpContextRegister r{};
    r.vtl = vtl;
    r.register_name = name;
    std::memcpy(r.register_value, &value, sizeof(value));
    appendStruct(out, r);
  }
  return out;
}

void Model::add(Entry e) {
  switch (sectionOfType(e.type).value_or(Section::kDirective)) {
    case Section::kPlatform: platforms.push_back(std::move(e)); break;
    case Section::kInitialization: initialization.push_back(std::move(e)); break;
    case Section::kDirective: directives.push_back(std::move(e)); break;
  }
}

Result<uint64_t> writeTo(const Model& model, const WriteOptions& opts, WriteSink& sink,
                         const StreamHooks& hooks) {
  Writer writer(model, opts, sink, hooks);
  return writer.run();
}

Result<ByteVector> write(const Model& model, const WriteOptions& opts) {
  ByteVector out;
  uint64_t estimate = 0;  // an upper bound of the padded data, to reserve the output once
  for (const EntryList* section : {&model.platforms, &model.initialization,
                                            &model.directives}) {
    for (const Entry& e : *section) {
      estimate += sizeof(IGVM_VHS_VARIABLE_HEADER) + align8(e.data.size()) + 64;
      if (!e.data.empty()) {
        estimate += std::max<uint64_t>(e.data.size(), kPageSize4K);
      }
    }
  }
  out.reserve(std::min<uint64_t>(estimate, uint64_t{1} << 32));
  VectorSink sink(out);
  IGVMKIT_RETURN_IF_ERROR(writeTo(model, opts, sink).status());
  // The same rules as the parser: the writer never returns a file `check` rejects.
  ParseOptions check;
  check.allow_undeclared_mask_bits = opts.allow_undeclared_mask_bits;
  Result<File> parsed = File::parse(out, check);
  if (!parsed.ok()) {
    return parsed.error();
  }
  return out;
}

Model fromFile(const File& file) {
  Model m;
  m.architecture = file.fixedHeader().architecture;
  for (const Header& h : file.headers()) {
    Entry e{h.type, h.body, Blob::view(h.data)};
    if (const auto* u = std::get_if<UnknownHeader>(&h.body)) {
      e.data = Blob::view(u->content);
    }
    switch (h.section) {
      case Section::kPlatform: m.platforms.push_back(std::move(e)); break;
      case Section::kInitialization: m.initialization.push_back(std::move(e)); break;
      case Section::kDirective: m.directives.push_back(std::move(e)); break;
    }
  }
  return m;
}

}  // namespace igvmkit::igvm
