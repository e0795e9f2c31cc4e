// Known-answer vectors (igvm-format.md §10), a positive test for every header type, filters,
// optional headers and round trips.
#include "base/testing/matchers.h"
#include "igvm/file.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <set>
#include <string>

#include "igvm/testing/models.h"
#include "igvm/writer.h"

namespace igvmkit::igvm {
namespace {

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;

using testing::everyHeaderAArch64;
using testing::everyHeaderX64;
using testing::vectorA;
using testing::vectorB;
using testing::vectorC;

std::string sha256Hex(Bytes b) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(b.data(), b.size(), md, &len, EVP_sha256(), nullptr);
  return hexBytes(Bytes(reinterpret_cast<const std::byte*>(md), len));
}

uint32_t u32At(const ByteVector& b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}

ByteVector mustWrite(const Model& m, uint32_t version, bool allow_undeclared = false) {
  WriteOptions o;
  o.version = version;
  o.allow_undeclared_mask_bits = allow_undeclared;
  Result<ByteVector> r = write(m, o);
  EXPECT_THAT(r, IsOk());
  return r.ok() ? *r : ByteVector{};
}

// --- §10.3 derived vectors (UNCONFIRMED in the reference; derived independently here) ---------

// Vector A's first 0x1A0 bytes as printed in igvm-format.md §10.3.
constexpr const char* kVectorAHead[] = {
    "4947 564d 0100 0000 1800 0000 8801 0000",
    "a041 0000 20c5 6423 0100 0000 1000 0000",
    "0100 0000 0001 0100 0000 0000 0000 0000",
    "0101 0000 1000 0000 0000 0300 0000 0000",
    "0100 0000 0000 0000 0101 0000 1000 0000",
    "0000 0300 0000 0000 0200 0000 0000 0000",
    "0203 0000 1800 0000 0000 0000 0000 0000",
    "0100 0000 a001 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 0010 0000 0000 0000",
    "0100 0000 a011 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 0020 0000 0000 0000",
    "0100 0000 a021 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 0040 0000 0000 0000",
    "0100 0000 a031 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 00a0 0000 0000 0000",
    "0100 0000 a001 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 00b0 0000 0000 0000",
    "0100 0000 a011 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 00c0 0000 0000 0000",
    "0100 0000 a021 0000 0000 0000 0000 0000",
    "0203 0000 1800 0000 00e0 0000 0000 0000",
    "0100 0000 a031 0000 0000 0000 0000 0000",
    "0103 0000 1000 0000 0010 0000 0000 0000",
    "0000 0000 0000 0000 0703 0000 0800 0000",
    "0000 0000 0000 0000 0303 0000 1000 0000",
    "0040 0100 0000 0000 0100 0000 0000 0000",
};

TEST(KnownAnswer, VectorA) {
  ByteVector f = mustWrite(vectorA(), 1, /*allow_undeclared=*/true);
  ASSERT_EQ(f.size(), 0x41A0u);
  EXPECT_EQ(u32At(f, 0x0C), 0x188u);
  EXPECT_EQ(u32At(f, 0x10), 0x41A0u);
  EXPECT_EQ(u32At(f, 0x14), 0x2364C520u);
  EXPECT_EQ(sha256Hex(f), "effc7663b1f9669b6534453ad5e26f5f29d16cd9f3c953b24cd45858b23dd215");
  std::string head_hex;
  for (const char* line : kVectorAHead) {
    for (const char* c = line; *c != 0; ++c) {
      if (*c != ' ') {
        head_hex += *c;
      }
    }
  }
  Result<ByteVector> head = parseHexBytes(head_hex);
  ASSERT_TRUE(head.ok());
  ASSERT_EQ(head->size(), 0x1A0u);
  EXPECT_EQ(hexBytes(Bytes(f).subspan(0, 0x1A0)), hexBytes(*head));
  // File data: 0x01 x 4096 at 0x1A0, 0x02 at 0x11A0, 0x03 at 0x21A0, 0x04 at 0x31A0.
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(static_cast<int>(f[0x1A0 + k * 0x1000]), k + 1);
    EXPECT_EQ(static_cast<int>(f[0x1A0 + k * 0x1000 + 0xFFF]), k + 1);
  }
  // Without the relaxed option the undeclared mask bit 2 is an error.
  Result<File> strict = File::parse(f);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(strict, HasRule("mask.undeclared"));
  EXPECT_EQ(strict.error().location->header_index, 2u);
  EXPECT_EQ(strict.error().location->offset, 0x48u);
}

TEST(KnownAnswer, VectorB) {
  ByteVector f = mustWrite(vectorB(), 1);
  ASSERT_EQ(f.size(), 0x4170u);
  EXPECT_EQ(u32At(f, 0x0C), 0x158u);
  EXPECT_EQ(u32At(f, 0x14), 0xB622EC75u);
  EXPECT_EQ(sha256Hex(f), "b1c0306a449a76d088f68fbc9afb61dcad2697b0dd1a166268aa80a846a8cd5c");
}

TEST(KnownAnswer, VectorC) {
  ByteVector f = mustWrite(vectorC(), 2);
  ASSERT_EQ(f.size(), 0x41BCu);
  EXPECT_EQ(hexBytes(Bytes(f).subspan(0, 0x20)),
            "4947564d0200000020000000780100"
            "00bc410000aab5421d0000000000100000");
  EXPECT_EQ(sha256Hex(f), "dbe1dd6577c443d73b12c844e21ae9389c39740633536d369ec00b9669b23721");
  EXPECT_EQ(hexBytes(Bytes(f).subspan(0x178, 0x20)),
            "0403000014000000" "0000000000000000" "01000000" "98410000" "0000" "0000" "00000000");
  EXPECT_EQ(hexBytes(Bytes(f).subspan(0x4198)),
            "01000000" "00" "0c000200" "0000000000000000000000" "3412000000000000"
            "0000000000000000");
}

// igvm_c/tests/igvm_test.c expectations on the test_data file (vector A).
TEST(KnownAnswer, IgvmCTestDataView) {
  ByteVector f = mustWrite(vectorA(), 1, /*allow_undeclared=*/true);
  ParseOptions po;
  po.allow_undeclared_mask_bits = true;
  Result<File> r = File::parse(f, po);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->platforms().size(), 1u);
  EXPECT_EQ(r->initializationHeaders().size(), 2u);
  auto d = r->directives();
  ASSERT_EQ(d.size(), 11u);
  const auto* pd = d[1].get<IGVM_VHS_PAGE_DATA>();
  ASSERT_NE(pd, nullptr);
  EXPECT_EQ(pd->gpa, 0x1000u);
  EXPECT_EQ(pd->compatibility_mask, 1u);
  EXPECT_EQ(hexBytes(d[3].data), hexBytes(testing::filled(4096, 4)));
  const auto* area = d[8].get<IGVM_VHS_PARAMETER_AREA>();
  ASSERT_NE(area, nullptr);
  EXPECT_EQ(area->parameter_area_index, 0u);
  EXPECT_EQ(area->number_of_bytes, 0x1000u);
  ASSERT_EQ(d[9].type, kVhtVpCountParameter);
  EXPECT_EQ(d[9].get<IGVM_VHS_PARAMETER>()->parameter_area_index, 0u);
  EXPECT_EQ(d[9].get<IGVM_VHS_PARAMETER>()->byte_offset, 0u);
  const auto* ins = d[10].get<IGVM_VHS_PARAMETER_INSERT>();
  ASSERT_NE(ins, nullptr);
  EXPECT_EQ(ins->gpa, 0x14000u);
  EXPECT_EQ(ins->compatibility_mask, 1u);
  EXPECT_EQ(ins->parameter_area_index, 0u);
  // The 16-byte buffer 01..10 is not an IGVM file (fixed header).
  ByteVector junk;
  for (int i = 1; i <= 16; ++i) {
    junk.push_back(static_cast<std::byte>(i));
  }
  Result<File> bad = File::parse(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad, HasRule("fixed.size"));
}

// --- §10.2 reference crate tests, re-expressed -------------------------------------------------

TEST(KnownAnswer, PageDataPaddingAndDedup) {
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 1));
  m.directives.push_back(testing::pageEntry(0x12000, 1));                         // empty
  m.directives.push_back(testing::pageEntry(0x13000, 1, testing::filled(9, 7)));  // 9 bytes
  m.directives.push_back(testing::pageEntry(0x14000, 1, testing::filled(9, 7)));  // same blob
  m.directives.push_back(testing::pageEntry(0x15000, 1, testing::filled(4096, 7)));
  ByteVector f = mustWrite(m, 1);
  Result<File> file = File::parse(f);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  auto d = file->directives();
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].get<IGVM_VHS_PAGE_DATA>()->file_offset, 0u);
  EXPECT_TRUE(d[0].data.empty());
  EXPECT_EQ(d[1].get<IGVM_VHS_PAGE_DATA>()->file_offset,
            d[2].get<IGVM_VHS_PAGE_DATA>()->file_offset);
  EXPECT_EQ(d[1].data.size(), 4096u);
  EXPECT_EQ(static_cast<int>(d[1].data[8]), 7);
  EXPECT_EQ(static_cast<int>(d[1].data[9]), 0);
  EXPECT_NE(d[3].get<IGVM_VHS_PAGE_DATA>()->file_offset,
            d[1].get<IGVM_VHS_PAGE_DATA>()->file_offset);
  EXPECT_EQ(f.size(), file->fileDataOffset() + 2 * 4096);  // two distinct blobs

  m.directives.push_back(testing::pageEntry(0x16000, 1, testing::filled(4097, 7)));
  Result<ByteVector> over = write(m);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over, HasRule("write.data_size"));
}

// Many blobs, most of them repeats of earlier ones at long distances: each page's data is stored
// once, at its first occurrence, and every repeat points there. Pages that differ in one byte, or
// only in where the difference is, stay distinct; so do equal bytes of different lengths (a 4 KiB
// page and an 8 KiB parameter area of the same fill).
TEST(KnownAnswer, DedupStoresEachContentOnceAtItsFirstOccurrence) {
  constexpr size_t kDistinct = 700, kPages = 2100;
  auto contentOf = [](size_t k) {
    ByteVector page(4096, std::byte{0});
    page[k] = std::byte{1};  // contents differ only in where their one nonzero byte is
    return page;
  };
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 1));
  for (size_t i = 0; i < kPages; ++i) {
    m.directives.push_back(testing::pageEntry(0x100000 + i * 4096, 1, contentOf(i % kDistinct)));
  }
  m.directives.push_back(testing::areaEntry(0, 8192, testing::filled(4096, 0)));
  m.directives.push_back(testing::pageEntry(0x1000, 1, testing::filled(4096, 0)));
  ByteVector f = mustWrite(m, 1);
  Result<File> file = File::parse(f);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  auto d = file->directives();
  ASSERT_EQ(d.size(), kPages + 2);
  std::set<uint32_t> offsets;
  for (size_t i = 0; i < kPages; ++i) {
    uint32_t offset = d[i].get<IGVM_VHS_PAGE_DATA>()->file_offset;
    ASSERT_EQ(offset, d[i % kDistinct].get<IGVM_VHS_PAGE_DATA>()->file_offset) << "page " << i;
    ASSERT_TRUE(std::equal(d[i].data.begin(), d[i].data.end(), contentOf(i % kDistinct).begin()));
    offsets.insert(offset);
  }
  EXPECT_EQ(offsets.size(), kDistinct);
  EXPECT_NE(d[kPages + 1].get<IGVM_VHS_PAGE_DATA>()->file_offset,
            d[kPages].get<IGVM_VHS_PARAMETER_AREA>()->file_offset);
  EXPECT_EQ(f.size(), file->fileDataOffset() + kDistinct * 4096 + 8192 + 4096);
}

TEST(KnownAnswer, ParameterAreaSizes) {
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 1));
  m.directives.push_back(testing::areaEntry(0, 123 * 4096, testing::text("x")));
  Result<ByteVector> ok = write(m);
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  Result<File> f = File::parse(*ok);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->directives()[0].data.size(), 123u * 4096);
  m.directives[0] = testing::areaEntry(0, 1234);
  Result<ByteVector> bad = write(m);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad, HasRule("parameter_area.size"));
  EXPECT_EQ(bad.error().message, "number_of_bytes 0x4d2 is not page aligned");
}

TEST(KnownAnswer, SnpVmsaLayout) {
  // lib.rs test_snp_vp_context: cr2 = 42 lands at 0x240, ldtr.attrib = 92 at 0x72.
  SevVmsa v{};
  v.cr2 = 42;
  v.ldtr.attrib = 92;
  ByteVector b = testing::structBytes(v);
  EXPECT_EQ(static_cast<int>(b[0x240]), 42);
  EXPECT_EQ(static_cast<int>(b[0x72]), 92);
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kSevSnp, 1));
  m.directives.push_back(testing::vpEntry(0x1234000, 1, 0xABCD, b));
  ByteVector f = mustWrite(m, 1);
  Result<File> file = File::parse(f);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  const Header& h = file->directives()[0];
  EXPECT_EQ(h.vp_format, VpContextFormat::kSnpVmsa);
  Result<SevVmsa> back = vmsaOf(h);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cr2, 42u);
  EXPECT_EQ(back->ldtr.attrib, 92u);
  EXPECT_EQ(h.get<IGVM_VHS_VP_CONTEXT>()->vp_index, 0xABCD);
}

TEST(KnownAnswer, AArch64VbsContextBytes) {
  // lib.rs test_aarch64_vbs_vp_context: file data = count 2 + {XPc=0x1234, X1=0x5678}.
  ByteVector f = mustWrite(everyHeaderAArch64(), 2);
  Result<File> file = File::parse(f);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  const Header& h = file->directives()[1];
  ASSERT_EQ(h.vp_format, VpContextFormat::kVbsAArch64);
  EXPECT_EQ(hexBytes(h.data), "02000000"
                              "00" "22000200" "0000000000000000000000" "3412000000000000"
                              "0000000000000000"
                              "00" "01000200" "0000000000000000000000" "7856000000000000"
                              "0000000000000000");
  // The entry itself: 24 bytes incl. 4 bytes of padding, length 20.
  EXPECT_EQ(u32At(f, h.offset + 4), 20u);
}

TEST(KnownAnswer, Crc32) {
  // The standard CRC-32 check value.
  EXPECT_EQ(crc32(toBytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(toBytes("")), 0u);
  EXPECT_EQ(crc32(toBytes("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
}

// The table-driven CRC (eight bytes at a time) against the bit-at-a-time definition, at every
// length and split point around the 8-byte steps, and continued across calls.
TEST(KnownAnswer, Crc32MatchesTheBitwiseDefinition) {
  auto bitwise = [](Bytes bytes, uint32_t crc) {
    crc = ~crc;
    for (std::byte b : bytes) {
      crc ^= std::to_integer<uint32_t>(b);
      for (int k = 0; k < 8; ++k) {
        crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
      }
    }
    return ~crc;
  };
  ByteVector data(131);
  uint32_t x = 0x12345678;
  for (std::byte& b : data) {
    x = x * 1103515245 + 12345;
    b = static_cast<std::byte>(x >> 24);
  }
  for (size_t length = 0; length <= data.size(); ++length) {
    const Bytes all = Bytes(data).first(length);
    EXPECT_EQ(crc32(all), bitwise(all, 0)) << length;
    for (size_t split : {size_t{0}, length / 3, length / 2, length}) {
      EXPECT_EQ(crc32(all.subspan(split), crc32(all.first(split))), bitwise(all, 0)) << length;
    }
  }
}

// --- a positive test for every header type ----------------------------------------------------

TEST(EveryHeader, X64DecodesEveryType) {
  ByteVector bytes = mustWrite(everyHeaderX64(), 2);
  Result<File> r = File::parse(bytes);
  ASSERT_THAT(r, IsOk());
  const File& f = *r;
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.arch(), Arch::kX64);
  EXPECT_EQ(f.platforms().size(), 6u);
  EXPECT_EQ(f.declaredMask(), 0x3Fu);
  ASSERT_NE(f.platform(PlatformType::kSevSnp), nullptr);
  EXPECT_EQ(f.platform(PlatformType::kSevSnp)->shared_gpa_boundary, 0x0000400000000000u);
  EXPECT_EQ(f.platformForBit(0x8)->platform_type, static_cast<uint8_t>(PlatformType::kTdx));
  EXPECT_EQ(f.platform(PlatformType::kCca), nullptr);

  std::map<uint32_t, int> seen;
  for (const Header& h : f.headers()) {
    ++seen[h.type];
  }
  for (uint32_t t : {kVhtSupportedPlatform, kVhtGuestPolicy, kVhtRelocatableRegion,
                     kVhtPageTableRelocationRegion, kVhtCorimDocument, kVhtCorimSignature,
                     kVhtParameterArea, kVhtPageData, kVhtParameterInsert, kVhtVpContext,
                     kVhtRequiredMemory, kVhtVpCountParameter, kVhtSrat, kVhtMadt, kVhtMmioRanges,
                     kVhtSnpIdBlock, kVhtMemoryMap, kVhtErrorRange, kVhtCommandLine, kVhtSlit,
                     kVhtPptt, kVhtVbsMeasurement, kVhtDeviceTree, kVhtEnvironmentInfoParameter,
                     0x80000350u}) {
    EXPECT_GE(seen[t], 1) << headerTypeName(t);
  }

  auto init = f.initializationHeaders();
  ASSERT_EQ(init.size(), 6u);
  EXPECT_EQ(init[0].get<IGVM_VHS_GUEST_POLICY>()->policy, 0x30000u);
  EXPECT_EQ(init[2].get<IGVM_VHS_RELOCATABLE_REGION>()->relocation_alignment, 0x200000u);
  EXPECT_EQ(init[3].get<IGVM_VHS_PAGE_TABLE_RELOCATION>()->used_size, 0x2000u);
  EXPECT_EQ(init[4].name(), "CORIM_DOCUMENT");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(init[4].data.data()), init[4].data.size()),
            "corim-document");
  EXPECT_EQ(init[5].get<IGVM_VHS_CORIM_DATA>()->size_bytes, 8u);

  int vp = 0;
  for (const Header& h : f.directives()) {
    EXPECT_EQ(h.section, Section::kDirective);
    if (const auto* a = h.get<IGVM_VHS_PARAMETER_AREA>(); a && a->parameter_area_index == 0) {
      EXPECT_EQ(h.data.size(), 0x2000u);
      EXPECT_EQ(static_cast<char>(h.data[0]), 'i');
    }
    if (const auto* pd = h.get<IGVM_VHS_PAGE_DATA>()) {
      if (pd->gpa == 0x1000) {
        EXPECT_TRUE(h.data.empty());  // zero page
      }
      if (pd->gpa == 0x400000) {
        EXPECT_EQ(pd->flags, kPageDataFlagIs2MbPage);
      }
      if (pd->gpa == 0x3000) {
        EXPECT_EQ(pd->data_type, static_cast<uint16_t>(PageDataType::kCpuidData));
      }
    }
    if (h.type == kVhtVpContext) {
      ++vp;
      switch (h.get<IGVM_VHS_VP_CONTEXT>()->compatibility_mask) {
        case 0x1: {
          Result<IgvmNativeVpContextX64> c = nativeContextOf(h);
          ASSERT_TRUE(c.ok());
          EXPECT_EQ(c->rip, 0x100000u);
          EXPECT_EQ(c->cr3, 0x9000u);
          break;
        }
        case 0x2: {
          auto regs = vbsRegistersOf(h);
          ASSERT_TRUE(regs.ok());
          ASSERT_EQ(regs->size(), 3u);
          EXPECT_EQ((*regs)[0].register_name, kHvX64RegisterRip);
          break;
        }
        case 0x4:
        case 0x20:
          EXPECT_EQ(h.vp_format, VpContextFormat::kSnpVmsa);
          EXPECT_EQ(vmsaOf(h)->sev_features, kSevFeatureSnp);
          EXPECT_FALSE(nativeContextOf(h).ok());
          break;
        case 0x10:
          EXPECT_EQ(h.vp_format, VpContextFormat::kNativeX64);
          break;
        default:
          ADD_FAILURE() << "unexpected VP context mask";
      }
    }
    if (const auto* id = h.get<IGVM_VHS_SNP_ID_BLOCK>()) {
      EXPECT_EQ(id->ld[47], 47);
      EXPECT_EQ(id->id_public_key.curve, kSnpIdBlockCurveP384);
    }
    if (const auto* m = h.get<IGVM_VHS_VBS_MEASUREMENT>()) {
      EXPECT_EQ(m->signing_algo, kVbsSigningAlgoEcdsaP384);
    }
    if (const auto* rm = h.get<IGVM_VHS_REQUIRED_MEMORY>()) {
      EXPECT_EQ(rm->number_of_bytes, 0x1000000u);
    }
    if (const auto* er = h.get<IGVM_VHS_ERROR_RANGE>()) {
      EXPECT_EQ(er->gpa, 0x30000u);
    }
    if (const auto* u = h.get<UnknownHeader>()) {
      EXPECT_EQ(h.type, 0x80000350u);
      EXPECT_EQ(u->content.size(), 8u);
      EXPECT_EQ(h.name(), "UNKNOWN");
      EXPECT_FALSE(h.compatibilityMask().has_value());
    }
  }
  EXPECT_EQ(vp, 5);
}

TEST(EveryHeader, AArch64DecodesEveryType) {
  ByteVector bytes = mustWrite(everyHeaderAArch64(), 2);
  Result<File> r = File::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->arch(), Arch::kAArch64);
  const auto* cca = r->initializationHeaders()[0].get<IGVM_VHS_CCA_POLICY>();
  ASSERT_NE(cca, nullptr);
  EXPECT_EQ(cca->hash_algorithm, kCcaHashSha384);
  const Header& ctx = r->directives()[2];
  EXPECT_EQ(ctx.vp_format, VpContextFormat::kCca);
  Result<IgvmVpContextAArch64Cca> c = ccaContextOf(ctx);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pc, 0x80000u);
  EXPECT_EQ(ctx.data.size(), 4096u);
}

TEST(EveryHeader, AArch64NeedsVersion2) {
  Result<ByteVector> r = write(everyHeaderAArch64(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, HasRule("write.version"));
}

// --- options --------------------------------------------------------------------------------

TEST(Options, FilterByPlatformKeepsMasklessAndPlatforms) {
  ByteVector bytes = mustWrite(everyHeaderX64(), 2);
  ParseOptions o;
  o.platform = PlatformType::kSevSnp;
  Result<File> r = File::parse(bytes, o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->platforms().size(), 6u);
  for (const Header& h : r->headers()) {
    if (h.section != Section::kPlatform) {
      EXPECT_TRUE(h.appliesTo(0x4)) << h.name();
    }
  }
  // The VBS-only REQUIRED_MEMORY is gone, the SNP ID block stays; indices are the file's.
  bool id_block = false;
  for (const Header& h : r->directives()) {
    EXPECT_NE(h.type, kVhtRequiredMemory);
    id_block |= h.type == kVhtSnpIdBlock;
  }
  EXPECT_TRUE(id_block);
  Result<File> all = File::parse(bytes);
  EXPECT_LT(r->headers().size(), all->headers().size());
  EXPECT_EQ(r->headers().back().index, all->headers().back().index);

  ParseOptions by_mask;
  by_mask.compatibility_mask = 0x4;
  Result<File> r2 = File::parse(bytes, by_mask);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->headers().size(), r->headers().size());

  ParseOptions cca_only;
  cca_only.platform = PlatformType::kCca;
  Result<File> cca = File::parse(bytes, cca_only);
  ASSERT_FALSE(cca.ok());
  EXPECT_THAT(cca, HasRule("filter.no_platform"));
}

TEST(Options, OptionalUnknownSkippedUnlessStrict) {
  ByteVector bytes = mustWrite(everyHeaderX64(), 2);
  ASSERT_TRUE(File::parse(bytes).ok());
  ParseOptions strict;
  strict.strict = true;
  Result<File> r = File::parse(bytes, strict);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, HasRule("vh.unknown_type"));
  EXPECT_EQ(r.error().location->header_type, 0x80000350u);
}

// --- round trips ---------------------------------------------------------------------------------

void expectRoundTrip(const ByteVector& bytes, bool allow_undeclared = false) {
  ParseOptions po;
  po.allow_undeclared_mask_bits = allow_undeclared;
  Result<File> f = File::parse(bytes, po);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  WriteOptions wo;
  wo.version = f->version();
  wo.allow_undeclared_mask_bits = allow_undeclared;
  Result<ByteVector> again = write(fromFile(*f), wo);
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(hexBytes(*again), hexBytes(bytes));
}

TEST(RoundTrip, EveryModelIsByteExact) {
  expectRoundTrip(mustWrite(vectorA(), 1, true), true);
  expectRoundTrip(mustWrite(vectorB(), 1));
  expectRoundTrip(mustWrite(vectorC(), 2));
  expectRoundTrip(mustWrite(everyHeaderX64(), 2));
  expectRoundTrip(mustWrite(everyHeaderX64(), 1));
  expectRoundTrip(mustWrite(everyHeaderAArch64(), 2));
}

// Page data are views into the caller's buffer, not copies (zero-copy parse).
TEST(RoundTrip, PageDataPointsIntoTheBuffer) {
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kSevSnp, 1));
  for (uint32_t i = 0; i < 1024; ++i) {
    ByteVector page(4096);
    std::memcpy(page.data(), &i, sizeof(i));
    m.directives.push_back(testing::pageEntry(uint64_t{i} * kPageSize4K, 1, std::move(page)));
  }
  ByteVector bytes = mustWrite(m, 1);
  EXPECT_EQ(bytes.size(), 0x18 + 0x18 + 1024 * 0x20 + 1024 * 4096u);
  Result<File> f = File::parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  const std::byte* begin = bytes.data();
  const std::byte* end = bytes.data() + bytes.size();
  uint32_t i = 0;
  for (const Header& h : f->directives()) {
    ASSERT_EQ(h.data.size(), 4096u);
    EXPECT_TRUE(h.data.data() >= begin && h.data.data() + h.data.size() <= end);
    uint32_t tag;
    std::memcpy(&tag, h.data.data(), sizeof(tag));
    EXPECT_EQ(tag, i++);
  }
}

// Model::add sorts entries into their sections by type range.
TEST(RoundTrip, ModelAddPicksTheSection) {
  Model m;
  m.add(pageDataEntry(0, 1));
  m.add(makeEntry(kVhtGuestPolicy, IGVM_VHS_GUEST_POLICY{0x30000, 1, 0}));
  m.add(platformEntry(PlatformType::kSevSnp, 1));
  m.add(Entry{0x80000999, UnknownHeader{}, Blob(testing::text("x"))});
  EXPECT_EQ(m.platforms.size(), 1u);
  EXPECT_EQ(m.initialization.size(), 1u);
  EXPECT_EQ(m.directives.size(), 2u);
  Result<ByteVector> bytes = write(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error().describe();
  Result<File> f = File::parse(*bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->headers()[0].type, kVhtSupportedPlatform);
  EXPECT_EQ(f->headers()[1].type, kVhtGuestPolicy);
  EXPECT_EQ(f->headers()[3].get<UnknownHeader>()->content.size(), 1u);
}

TEST(RoundTrip, Deterministic) {
  EXPECT_EQ(mustWrite(everyHeaderX64(), 2), mustWrite(everyHeaderX64(), 2));
}

TEST(RoundTrip, RelocationBuildersWriteTheirFields) {
  Model m;
  m.add(platformEntry(PlatformType::kVsmIsolation, 1));
  m.add(relocatableRegionEntry(1, 0x100000, 0x3000, 0x100000, 0x100000, 0x40000000,
                               kRelocationFlagApplyPc | kRelocationFlagApplyGdtr));
  m.add(pageTableRelocationEntry(1, 0x10000, 0x8000, 0x3000));
  m.add(vpContextEntry(0, 1, 0, Blob(vbsRegisterList({{kHvX64RegisterRip, 0x100000}}))));
  Result<ByteVector> bytes = write(m);
  ASSERT_TRUE(bytes.ok()) << bytes.error().describe();
  Result<File> f = File::parse(*bytes);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  auto init = f->initializationHeaders();
  ASSERT_EQ(init.size(), 2u);
  const auto* rr = init[0].get<IGVM_VHS_RELOCATABLE_REGION>();
  ASSERT_NE(rr, nullptr);
  EXPECT_EQ(rr->compatibility_mask, 1u);
  EXPECT_EQ(rr->relocation_region_gpa, 0x100000u);
  EXPECT_EQ(rr->relocation_region_size, 0x3000u);
  EXPECT_EQ(rr->relocation_alignment, 0x100000u);
  EXPECT_EQ(rr->minimum_relocation_gpa, 0x100000u);
  EXPECT_EQ(rr->maximum_relocation_gpa, 0x40000000u);
  EXPECT_EQ(rr->flags, kRelocationFlagApplyPc | kRelocationFlagApplyGdtr);
  const auto* pt = init[1].get<IGVM_VHS_PAGE_TABLE_RELOCATION>();
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(pt->gpa, 0x10000u);
  EXPECT_EQ(pt->size, 0x8000u);
  EXPECT_EQ(pt->used_size, 0x3000u);
}

TEST(RoundTrip, WriterRejectsInvalidModelWithLocation) {
  Model m = vectorB();
  std::get<IGVM_VHS_PAGE_DATA>(m.directives[3].body).gpa = 0x1001;
  Result<ByteVector> r = write(m);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, HasRule("page_data.gpa_alignment"));
  EXPECT_EQ(r.error().describe(),
            "header #4 (PAGE_DATA 0x302) at offset 0x90: gpa 0x1001 is not page aligned");
}

}  // namespace
}  // namespace igvmkit::igvm
