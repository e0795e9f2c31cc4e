// Firmware::parse over synthetic tables (one case per rule, exact messages), the shared
// sev-snp-measure fixtures and Debian's OVMF. The expected fixture values were read from the files
// with an independent scratch reader (Python struct), not from this code.
#include "base/testing/matchers.h"
#include "ovmf/ovmf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/file.h"
#include "ovmf/defs.h"
#include "ovmf/testing/image_builder.h"
#include "ovmf/testing/shared.h"

namespace igvmkit::ovmf {
namespace {

using ::igvmkit::testing::HasRule;

using testing::ImageBuilder;
using testing::le;
using testing::toVector;

TEST(Guid, TextRoundTripAndStoredOrder) {
  EXPECT_EQ(kFooterGuid.toString(), "96b582de-1fb2-45f7-baea-a366c55a082d");
  // EFI_GUID stores Data1..Data3 little endian: de 82 b5 96, b2 1f, f7 45, then bytes as written.
  EXPECT_EQ(hexBytes(Bytes(kFooterGuid.bytes)), "de82b596b21ff745baeaa366c55a082d");
  EXPECT_EQ(Guid::fromString(kTdxMetadataGuidText).toString(), kTdxMetadataGuidText);
}

TEST(Parse, NoFooterIsAFirmwareWithoutTable) {
  ByteVector image(0x1000);
  Result<Firmware> fw = Firmware::parse(image);
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_TRUE(fw->entries().empty());
  EXPECT_FALSE(fw->sevEsResetEip());
  Result<TableEntry> e = fw->requireEntry(kSevEsResetBlockGuid, "an SEV-ES AP start");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e, HasRule("ovmf.missing"));
  EXPECT_EQ(e.error().message,
            "the image has no OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d) for "
            "GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e, which an SEV-ES AP start needs");
  EXPECT_TRUE(Firmware::parse({}).ok());
}

TEST(Parse, EveryKnownEntry) {
  ByteVector image = ImageBuilder(0x2000)
                         .resetBlock(0xffffb004)
                         .areaEntry(kSevSecretGuid, 0x810000, 0xc00)
                         .areaEntry(kSevHashTableGuid, 0x810c00, 0x400)
                         .sevMetadata({{0x800000, 0x9000, SevSectionType::kSnpSecMem},
                                       {0x80d000, 0x1000, SevSectionType::kSnpSecrets},
                                       {0x80e000, 0x1000, SevSectionType::kCpuid},
                                       {0x80f000, 0x1000, SevSectionType::kSvsmCaa},
                                       {0x810000, 0x1000, SevSectionType::kSnpKernelHashes}})
                         .tdxMetadata({{0x0, 0x1000, 0xfffff000, 0x1000, TdvfSectionType::kBfv,
                                        kTdvfAttributeMrExtend},
                                       {0, 0, 0x809000, 0x2000, TdvfSectionType::kTdHob, 0},
                                       {0, 0, 0x900000, 0x1000, TdvfSectionType::kPermMem,
                                        kTdvfAttributePageAug}})
                         .u32Entry(kSvsmInfoGuid, 0x40)
                         .build();
  Result<Firmware> fw = Firmware::parse(image);
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  ASSERT_EQ(fw->entries().size(), 6u);
  EXPECT_EQ(fw->entries()[0].guid, kSevEsResetBlockGuid);
  EXPECT_EQ(fw->entries()[0].offset, 0x2000u - 0x20 - 18 - 18 - 4);
  EXPECT_EQ(*fw->sevEsResetEip(), 0xffffb004u);
  EXPECT_EQ(fw->sevSecret()->gpa, 0x810000u);
  EXPECT_EQ(fw->sevHashTable()->gpa, 0x810c00u);
  EXPECT_EQ(fw->sevHashTable()->size, 0x400u);
  EXPECT_EQ(*fw->svsmEntryOffset(), 0x40u);
  ASSERT_EQ(fw->sevSections().size(), 5u);
  EXPECT_TRUE(fw->hasSevSection(SevSectionType::kSnpKernelHashes));
  EXPECT_EQ(fw->sevSections()[2].type, SevSectionType::kCpuid);
  ASSERT_EQ(fw->tdvfSections().size(), 3u);
  EXPECT_TRUE(fw->tdvfSections()[0].mrExtend());
  EXPECT_FALSE(fw->tdvfSections()[1].mrExtend());
  EXPECT_TRUE(fw->tdvfSections()[2].pageAug());
}

TEST(Parse, HashTableWithBaseZeroIsAbsent) {
  ByteVector image = ImageBuilder().areaEntry(kSevHashTableGuid, 0, 0).build();
  Result<Firmware> fw = Firmware::parse(image);
  ASSERT_TRUE(fw.ok());
  EXPECT_NE(fw->find(kSevHashTableGuid), nullptr);
  EXPECT_FALSE(fw->sevHashTable());
}

struct BadCase {
  const char* name;
  ByteVector image;
  std::string rule;
  uint64_t offset;
  std::string message;
};

// Offsets in a 0x2000-byte image: the footer entry at 0x1fce, the first entry's tail at 0x1fbc.
constexpr size_t kSize = 0x2000;
constexpr size_t kFooter = kSize - 0x20 - 18;

std::vector<BadCase> badCases() {
  const std::string meta = std::string(kSevMetadataGuidText);
  const std::string tdx = std::string(kTdxMetadataGuidText);
  std::vector<BadCase> cases;
  cases.push_back({"footer_too_small", ImageBuilder(kSize).put(kFooter, le<uint16_t>(3)).build(),
                   "ovmf.table", kFooter,
                   "OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d): size 0x3 is "
                   "smaller than its 18-byte footer entry"});
  cases.push_back({"footer_before_image",
                   ImageBuilder(kSize).put(kFooter, le<uint16_t>(0xffff)).build(), "ovmf.table",
                   kFooter,
                   "OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d): size 0xffff "
                   "runs before the start of the image"});
  cases.push_back({"entry_too_small",
                   ImageBuilder(kSize).resetBlock(1).put(kFooter - 18, le<uint16_t>(2)).build(),
                   "ovmf.entry", kFooter - 18,
                   "footer table entry #0 (GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e): size 0x2 "
                   "is smaller than its 18-byte tail"});
  cases.push_back({"entry_past_table",
                   ImageBuilder(kSize).resetBlock(1).put(kFooter - 18, le<uint16_t>(23)).build(),
                   "ovmf.entry", kFooter - 18,
                   "footer table entry #0 (GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e): size 0x17 "
                   "runs past the start of the table"});
  cases.push_back({"leftover_bytes",
                   ImageBuilder(kSize).resetBlock(1).put(kFooter, le<uint16_t>(18 + 22 + 5)).build(),
                   "ovmf.entry", kFooter - 22 - 5,
                   "OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d): 5 bytes before "
                   "entry #0 are too few for another entry's 18-byte tail"});
  cases.push_back({"duplicate", ImageBuilder(kSize).resetBlock(1).resetBlock(2).build(),
                   "ovmf.duplicate", kFooter - 22 - 18,
                   "footer table entry #1 (GUID 00f771de-1a7e-4fcb-890e-68c77e2fb44e): the GUID "
                   "appears twice in the table"});
  cases.push_back({"short_data", ImageBuilder(kSize).entry(kSevHashTableGuid, ByteVector(4)).build(),
                   "ovmf.entry_data", kFooter - 22,
                   "footer table entry #0 (GUID 7255371f-3a3b-4b04-927b-1da6efa8d454): 4 data "
                   "bytes, expected at least 8"});
  cases.push_back({"sev_offset", ImageBuilder(kSize).u32Entry(kSevMetadataGuid, 0x2001).build(),
                   "ovmf.sev_metadata", kFooter - 22,
                   "SEV metadata (GUID " + meta +
                       "): offset 0x2001 from the end of the image (size 0x2000) does not leave "
                       "room for its header"});
  cases.push_back({"sev_signature",
                   ImageBuilder(kSize).sevMetadata({}).put(0x100, toVector("ASEX")).build(),
                   "ovmf.sev_metadata", 0x100,
                   "SEV metadata (GUID " + meta + "): signature is not \"ASEV\""});
  cases.push_back({"sev_version",
                   ImageBuilder(kSize).sevMetadata({}).put(0x108, le<uint32_t>(2)).build(),
                   "ovmf.sev_metadata", 0x100, "SEV metadata (GUID " + meta + "): version 2 is not 1"});
  cases.push_back({"sev_size",
                   ImageBuilder(kSize)
                       .sevMetadata({{0x1000, 0x1000, SevSectionType::kCpuid}})
                       .put(0x104, le<uint32_t>(20))
                       .build(),
                   "ovmf.sev_metadata", 0x100,
                   "SEV metadata (GUID " + meta +
                       "): size 0x14 does not hold its header and 1 sections within the image"});
  cases.push_back({"sev_type",
                   ImageBuilder(kSize)
                       .sevMetadata({{0x1000, 0x1000, SevSectionType::kCpuid},
                                     {0x2000, 0x1000, static_cast<SevSectionType>(7)}})
                       .build(),
                   "ovmf.sev_metadata", 0x100 + 16 + 12,
                   "SEV metadata (GUID " + meta + ") section #1: type 0x7 is not a known section type"});
  cases.push_back({"sev_alignment",
                   ImageBuilder(kSize)
                       .sevMetadata({{0x1800, 0x1000, SevSectionType::kSnpSecMem}})
                       .build(),
                   "ovmf.sev_metadata", 0x110,
                   "SEV metadata (GUID " + meta +
                       ") section #0: gpa 0x1800 size 0x1000 is not a non-empty run of whole 4 KiB "
                       "pages"});
  cases.push_back({"sev_past_4g",
                   ImageBuilder(kSize)
                       .sevMetadata({{0xfffff000, 0x2000, SevSectionType::kSnpSecMem}})
                       .build(),
                   "ovmf.sev_metadata", 0x110,
                   "SEV metadata (GUID " + meta +
                       ") section #0: gpa 0xfffff000 + size 0x2000 runs past 4 GiB"});
  const TdvfSection bfv{0, 0x1000, 0xfffff000, 0x1000, TdvfSectionType::kBfv, 1};
  cases.push_back({"tdx_signature",
                   ImageBuilder(kSize).tdxMetadata({bfv}).put(0x300, toVector("TDVX")).build(),
                   "ovmf.tdx_metadata", 0x300,
                   "TDX metadata (GUID " + tdx + "): signature is not \"TDVF\""});
  cases.push_back({"tdx_length",
                   ImageBuilder(kSize).tdxMetadata({bfv}).put(0x304, le<uint32_t>(0x40)).build(),
                   "ovmf.tdx_metadata", 0x300,
                   "TDX metadata (GUID " + tdx +
                       "): length 0x40 is not 0x30 (header and 1 sections) within the image"});
  TdvfSection bad = bfv;
  bad.type = static_cast<TdvfSectionType>(9);
  cases.push_back({"tdx_type", ImageBuilder(kSize).tdxMetadata({bfv, bad}).build(),
                   "ovmf.tdx_metadata", 0x330,
                   "TDX metadata (GUID " + tdx + ") section #1: type 0x9 is not a known section type"});
  bad = bfv;
  bad.attributes = 4;
  cases.push_back({"tdx_attributes", ImageBuilder(kSize).tdxMetadata({bad}).build(),
                   "ovmf.tdx_metadata", 0x310,
                   "TDX metadata (GUID " + tdx + ") section #0: attributes 0x4 has unknown bits"});
  bad = bfv;
  bad.memory_address = 0x10;
  cases.push_back({"tdx_alignment", ImageBuilder(kSize).tdxMetadata({bad}).build(),
                   "ovmf.tdx_metadata", 0x310,
                   "TDX metadata (GUID " + tdx +
                       ") section #0: memory 0x10 size 0x1000 is not whole 4 KiB pages"});
  bad = bfv;
  bad.raw_data_size = 0x2000;
  cases.push_back({"tdx_raw_size", ImageBuilder(kSize).tdxMetadata({bad}).build(),
                   "ovmf.tdx_metadata", 0x310,
                   "TDX metadata (GUID " + tdx +
                       ") section #0: MemoryDataSize 0x1000 is smaller than RawDataSize 0x2000"});
  bad = bfv;
  bad.memory_address = 0xfffffffffffff000;
  bad.memory_data_size = 0x2000;
  cases.push_back({"tdx_wrap", ImageBuilder(kSize).tdxMetadata({bad}).build(),
                   "ovmf.tdx_metadata", 0x310,
                   "TDX metadata (GUID " + tdx +
                       ") section #0: memory 0xfffffffffffff000 + 0x2000 wraps around"});
  return cases;
}

TEST(Parse, OneErrorPerRule) {
  for (const BadCase& c : badCases()) {
    Result<Firmware> fw = Firmware::parse(c.image);
    ASSERT_FALSE(fw.ok()) << c.name;
    EXPECT_THAT(fw, HasRule(c.rule)) << c.name;
    EXPECT_EQ(fw.error().message, c.message) << c.name;
    ASSERT_TRUE(fw.error().location) << c.name;
    EXPECT_EQ(*fw.error().location->offset, c.offset) << c.name;
  }
}

// Values read from the sev-snp-measure fixtures (../shared/testdata/firmware).
TEST(SharedFixtures, AmdSevSuffix) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  Result<ByteVector> bytes = readFile(dir + "/ovmf_AmdSev_suffix.bin");
  ASSERT_TRUE(bytes.ok());
  Result<Firmware> fw = Firmware::parse(*bytes);
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_EQ(fw->entries().size(), 5u);
  EXPECT_EQ(*fw->sevEsResetEip(), 0x80b004u);
  EXPECT_EQ(fw->sevHashTable()->gpa, 0x810c00u);
  EXPECT_EQ(fw->sevHashTable()->size, 0x400u);
  EXPECT_EQ(fw->sevSecret()->gpa, 0x810000u);
  EXPECT_EQ(fw->sevSecret()->size, 0xc00u);
  const std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> sev = {
      {0x800000, 0x9000, 1}, {0x80a000, 0x3000, 1}, {0x80d000, 0x1000, 2}, {0x80e000, 0x1000, 3},
      {0x80f000, 0x1000, 4}, {0x810000, 0x1000, 0x10}, {0x811000, 0xf000, 1}};
  ASSERT_EQ(fw->sevSections().size(), sev.size());
  for (size_t i = 0; i < sev.size(); ++i) {
    EXPECT_EQ(fw->sevSections()[i].gpa, std::get<0>(sev[i])) << i;
    EXPECT_EQ(fw->sevSections()[i].size, std::get<1>(sev[i])) << i;
    EXPECT_EQ(static_cast<uint32_t>(fw->sevSections()[i].type), std::get<2>(sev[i])) << i;
  }
  ASSERT_EQ(fw->tdvfSections().size(), 6u);
  EXPECT_EQ(fw->tdvfSections()[0].data_offset, 0x84000u);
  EXPECT_EQ(fw->tdvfSections()[0].memory_address, 0xffc84000u);
  EXPECT_EQ(fw->tdvfSections()[0].type, TdvfSectionType::kBfv);
  EXPECT_TRUE(fw->tdvfSections()[0].mrExtend());
  EXPECT_EQ(fw->tdvfSections()[4].type, TdvfSectionType::kTdHob);
}

TEST(SharedFixtures, OvmfX64SuffixHasNoHashTable) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  Result<ByteVector> bytes = readFile(dir + "/ovmf_OvmfX64_suffix.bin");
  ASSERT_TRUE(bytes.ok());
  Result<Firmware> fw = Firmware::parse(*bytes);
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_FALSE(fw->sevHashTable());
  EXPECT_FALSE(fw->hasSevSection(SevSectionType::kSnpKernelHashes));
  EXPECT_EQ(fw->sevSections().size(), 6u);
}

TEST(SharedFixtures, Svsm) {
  IGVMKIT_FIRMWARE_OR_SKIP(dir);
  Result<MappedFile> mapped = MappedFile::open(dir + "/svsm.bin");
  ASSERT_TRUE(mapped.ok());
  Result<Firmware> fw = Firmware::parse(mapped->bytes());
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_EQ(*fw->svsmEntryOffset(), 0u);
  ASSERT_EQ(fw->sevSections().size(), 3u);
  EXPECT_EQ(fw->sevSections()[0].size, 0x9e000u);
  EXPECT_FALSE(fw->hasTdxMetadata());
}

TEST(DebianOvmf, Code2M) {
  IGVMKIT_DEBIAN_OVMF_OR_SKIP("OVMF_CODE.fd");
  Result<MappedFile> mapped = MappedFile::open(std::string(testing::kDebianOvmfDir) + "/OVMF_CODE.fd");
  ASSERT_TRUE(mapped.ok());
  Result<Firmware> fw = Firmware::parse(mapped->bytes());
  ASSERT_TRUE(fw.ok()) << fw.error().describe();
  EXPECT_EQ(*fw->sevEsResetEip(), 0x80b004u);
  EXPECT_FALSE(fw->sevHashTable());
  EXPECT_EQ(fw->sevSections().size(), 5u);
  ASSERT_EQ(fw->tdvfSections().size(), 6u);
  // Counted from the start of the unified image: OVMF_VARS.fd (0x20000 bytes) + OVMF_CODE.fd.
  EXPECT_EQ(fw->tdvfSections()[0].data_offset, 0x20000u);
  EXPECT_EQ(fw->tdvfSections()[0].raw_data_size, 0x1e0000u);
  EXPECT_EQ(fw->tdvfSections()[1].type, TdvfSectionType::kCfv);
}

}  // namespace
}  // namespace igvmkit::ovmf
