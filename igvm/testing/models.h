// igvm/testing/models.h: models used by the igvm tests, the golden dumps and the fuzz seed
// corpus (testonly).
//
//   vectorA/B/C: the three derived files of igvm-format.md §10.3.
//   everyHeaderX64 / everyHeaderAArch64: one or more of every header type, valid.
#pragma once

#include <cstring>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "igvm/defs.h"
#include "igvm/writer.h"

namespace igvmkit::igvm::testing {

inline ByteVector filled(size_t n, uint8_t value) { return ByteVector(n, std::byte{value}); }
inline ByteVector text(std::string_view s) {
  Bytes b = toBytes(s);
  return ByteVector(b.begin(), b.end());
}
template <class T>
ByteVector structBytes(const T& v) {
  ByteVector out;
  appendStruct(out, v);
  return out;
}

inline Entry pageEntry(uint64_t gpa, uint32_t mask, ByteVector data = {}, uint32_t flags = 0,
                       PageDataType type = PageDataType::kNormal) {
  return pageDataEntry(gpa, mask, Blob(std::move(data)), flags, type);
}
inline Entry areaEntry(uint32_t index, uint64_t bytes, ByteVector data = {}) {
  return parameterAreaEntry(index, bytes, Blob(std::move(data)));
}
inline Entry insertEntry(uint64_t gpa, uint32_t mask, uint32_t index) {
  return parameterInsertEntry(gpa, mask, index);
}
inline Entry vpEntry(uint64_t gpa, uint32_t mask, uint16_t vp_index, ByteVector payload) {
  return vpContextEntry(gpa, mask, vp_index, Blob(std::move(payload)));
}
inline ByteVector vbsRegisters(const std::vector<std::pair<uint32_t, uint64_t>>& regs,
                               uint8_t vtl = 0) {
  return vbsRegisterList(regs, vtl);
}

// §10.3 common content: VSM platform (mask 1), 8 pages with 4 distinct blobs, a parameter area
// with a VP count and its insert.
inline Model basicModel() {
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 0x1));
  const uint64_t pages[] = {0, 1, 2, 4, 10, 11, 12, 14};
  for (int i = 0; i < 8; ++i) {
    m.directives.push_back(
        pageEntry(pages[i] * kPageSize4K, 0x1, filled(4096, static_cast<uint8_t>(i % 4 + 1))));
  }
  m.directives.push_back(areaEntry(0, 4096));
  m.directives.push_back(makeEntry(kVhtVpCountParameter, IGVM_VHS_PARAMETER{0, 0}));
  m.directives.push_back(insertEntry(0x14000, 0x1, 0));
  return m;
}

// Vector A = igvm_c test_data (v1): two GUEST_POLICY headers, the second for mask 2 which no
// platform declares (write with allow_undeclared_mask_bits).
inline Model vectorA() {
  Model m = basicModel();
  IGVM_VHS_GUEST_POLICY p{};
  p.policy = 0x30000;
  p.compatibility_mask = 1;
  m.initialization.push_back(makeEntry(kVhtGuestPolicy, p));
  p.compatibility_mask = 2;
  m.initialization.push_back(makeEntry(kVhtGuestPolicy, p));
  return m;
}

// Vector B = lib.rs test_basic (v1).
inline Model vectorB() { return basicModel(); }

// Vector C = lib.rs test_basic_v2 (v2, x64): + a VBS VP context (VTL0, R12 = 0x1234).
inline Model vectorC() {
  Model m = basicModel();
  m.directives.push_back(vpEntry(0, 0x1, 0, vbsRegisters({{kHvX64RegisterR12, 0x1234}})));
  return m;
}

inline SevVmsa sampleVmsa(uint64_t rip) {
  SevVmsa v{};
  v.cs.selector = 0xF000;
  v.cs.attrib = 0x9B;
  v.cs.limit = 0xFFFF;
  v.cs.base = 0xFFFF0000;
  v.rip = rip;
  v.cr0 = 0x10;
  v.efer = 0x1000;
  v.rflags = 0x2;
  v.pat = 0x0007040600070406;
  v.xcr0 = 1;
  v.sev_features = kSevFeatureSnp;
  return v;
}

inline IgvmNativeVpContextX64 sampleNativeContext() {
  IgvmNativeVpContextX64 c{};
  c.rip = 0x100000;
  c.rsp = 0x80000;
  c.rflags = 0x2;
  c.code_selector = 0x8;
  c.code_attributes = 0xA09B;
  c.code_limit = 0xFFFFFFFF;
  c.data_selector = 0x10;
  c.data_attributes = 0xC093;
  c.data_limit = 0xFFFFFFFF;
  c.cr0 = 0x80000011;
  c.cr3 = 0x9000;
  c.cr4 = 0x20;
  c.efer = 0x500;
  return c;
}

// One or more of every x64 header type (format v2). Platform bits: NATIVE 0x1, VSM 0x2,
// SEV_SNP 0x4, TDX 0x8, SEV 0x10, SEV_ES 0x20.
inline Model everyHeaderX64() {
  Model m;
  m.platforms.push_back(platformEntry(PlatformType::kNative, 0x1));
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 0x2));
  m.platforms.push_back(platformEntry(PlatformType::kSevSnp, 0x4, 2, 0x0000400000000000));
  m.platforms.push_back(platformEntry(PlatformType::kTdx, 0x8));
  m.platforms.push_back(platformEntry(PlatformType::kSev, 0x10));
  m.platforms.push_back(platformEntry(PlatformType::kSevEs, 0x20));

  IGVM_VHS_GUEST_POLICY snp_policy{0x30000, 0x4, 0};
  m.initialization.push_back(makeEntry(kVhtGuestPolicy, snp_policy));
  IGVM_VHS_GUEST_POLICY tdx_policy{kTdxPolicySeptVeDisable, 0x8, 0};
  m.initialization.push_back(makeEntry(kVhtGuestPolicy, tdx_policy));
  IGVM_VHS_RELOCATABLE_REGION reloc{};
  reloc.compatibility_mask = 0x2;
  reloc.flags = kRelocationFlagApplyPc | kRelocationFlagApplyGdtr;
  reloc.relocation_alignment = 0x200000;
  reloc.relocation_region_gpa = 0x200000;
  reloc.relocation_region_size = 0x200000;
  reloc.minimum_relocation_gpa = 0x200000;
  reloc.maximum_relocation_gpa = 0x10000000;
  m.initialization.push_back(makeEntry(kVhtRelocatableRegion, reloc));
  IGVM_VHS_PAGE_TABLE_RELOCATION pt{};
  pt.compatibility_mask = 0x2;
  pt.gpa = 0x800000;
  pt.size = 0x10000;
  pt.used_size = 0x2000;
  m.initialization.push_back(makeEntry(kVhtPageTableRelocationRegion, pt));
  IGVM_VHS_CORIM_DATA corim{};
  corim.compatibility_mask = 0x4;
  m.initialization.push_back(makeEntry(kVhtCorimDocument, corim, text("corim-document")));
  m.initialization.push_back(makeEntry(kVhtCorimSignature, corim, text("cose-sig")));

  m.directives.push_back(areaEntry(0, 0x2000, text("initial")));
  m.directives.push_back(areaEntry(1, 0x1000));
  m.directives.push_back(makeEntry(kVhtVpCountParameter, IGVM_VHS_PARAMETER{0, 0}));
  m.directives.push_back(makeEntry(kVhtSrat, IGVM_VHS_PARAMETER{0, 0x100}));
  m.directives.push_back(makeEntry(kVhtMadt, IGVM_VHS_PARAMETER{0, 0x200}));
  m.directives.push_back(makeEntry(kVhtMmioRanges, IGVM_VHS_PARAMETER{0, 0x300}));
  m.directives.push_back(makeEntry(kVhtMemoryMap, IGVM_VHS_PARAMETER{1, 0}));
  m.directives.push_back(makeEntry(kVhtCommandLine, IGVM_VHS_PARAMETER{0, 0x400}));
  m.directives.push_back(makeEntry(kVhtSlit, IGVM_VHS_PARAMETER{0, 0x500}));
  m.directives.push_back(makeEntry(kVhtPptt, IGVM_VHS_PARAMETER{0, 0x600}));
  m.directives.push_back(makeEntry(kVhtEnvironmentInfoParameter, IGVM_VHS_PARAMETER{0, 0x700}));
  m.directives.push_back(makeEntry(kVhtDeviceTree, IGVM_VHS_PARAMETER{0, 0x1000}));
  m.directives.push_back(insertEntry(0x10000, 0x3F, 0));
  m.directives.push_back(insertEntry(0x12000, 0x3F, 1));

  m.directives.push_back(pageEntry(0x0, 0x3F, text("hello")));
  m.directives.push_back(pageEntry(0x1000, 0x3F));
  m.directives.push_back(pageEntry(0x2000, 0x4, {}, 0, PageDataType::kSecrets));
  m.directives.push_back(pageEntry(0x3000, 0x4, {}, 0, PageDataType::kCpuidData));
  m.directives.push_back(pageEntry(0x4000, 0x4, {}, 0, PageDataType::kCpuidXf));
  m.directives.push_back(pageEntry(0x5000, 0x3F, text("hello"), kPageDataFlagUnmeasured));
  m.directives.push_back(pageEntry(0x6000, 0x4, {}, kPageDataFlagShared));
  m.directives.push_back(pageEntry(0x400000, 0x2, {}, kPageDataFlagIs2MbPage));
  m.directives.push_back(pageEntry(0x800000, 0x2, filled(4096, 0x23)));
  m.directives.push_back(pageEntry(0x801000, 0x2, filled(4096, 0x63)));

  m.directives.push_back(vpEntry(0, 0x1, 0, structBytes(sampleNativeContext())));
  m.directives.push_back(vpEntry(0, 0x2, 0,
                                 vbsRegisters({{kHvX64RegisterRip, 0x200000},
                                               {kHvX64RegisterCr0, 0x1},
                                               {kHvX64RegisterRsp, 0x8000}})));
  m.directives.push_back(vpEntry(0xFFFFFFFFF000, 0x4, 0, structBytes(sampleVmsa(0xFFF0))));
  m.directives.push_back(vpEntry(0, 0x10, 0, structBytes(sampleNativeContext())));
  m.directives.push_back(vpEntry(0xFFFFE000, 0x20, 0, structBytes(sampleVmsa(0xFFF0))));

  IGVM_VHS_REQUIRED_MEMORY rm{};
  rm.gpa = 0x20000000;
  rm.compatibility_mask = 0x2;
  rm.number_of_bytes = 0x1000000;
  rm.flags = kRequiredMemoryFlagVtl2Protectable;
  m.directives.push_back(makeEntry(kVhtRequiredMemory, rm));
  IGVM_VHS_ERROR_RANGE er{0x30000, 0x4, 0x1000};
  m.directives.push_back(makeEntry(kVhtErrorRange, er));
  IGVM_VHS_SNP_ID_BLOCK id{};
  id.compatibility_mask = 0x4;
  id.version = 1;
  id.id_key_algorithm = kSnpIdBlockAlgoEcdsaP384Sha384;
  id.id_public_key.curve = kSnpIdBlockCurveP384;
  for (int i = 0; i < 48; ++i) {
    id.ld[i] = static_cast<uint8_t>(i);
  }
  m.directives.push_back(makeEntry(kVhtSnpIdBlock, id));
  IGVM_VHS_VBS_MEASUREMENT vbs{};
  vbs.compatibility_mask = 0x2;
  vbs.version = 1;
  vbs.boot_digest_algo = kVbsDigestAlgoSha256;
  vbs.signing_algo = kVbsSigningAlgoEcdsaP384;
  m.directives.push_back(makeEntry(kVhtVbsMeasurement, vbs));
  // An optional type this library does not know: kept, not interpreted.
  m.directives.push_back(Entry{0x80000350, UnknownHeader{}, Blob(text("optional"))});
  return m;
}

// AArch64 (format v2): VSM 0x1 and CCA 0x2, a CCA policy, an arm64 VBS and a CCA context.
inline Model everyHeaderAArch64() {
  Model m;
  m.architecture = kArchAArch64;
  m.platforms.push_back(platformEntry(PlatformType::kVsmIsolation, 0x1));
  m.platforms.push_back(platformEntry(PlatformType::kCca, 0x2));
  IGVM_VHS_CCA_POLICY cca{};
  cca.compatibility_mask = 0x2;
  cca.attributes_required_zeroes = kCcaPolicyAttrMec;
  cca.attributes_required_ones = kCcaPolicyAttrDebug;
  cca.hash_algorithm = kCcaHashSha384;
  cca.lfa_policy = kCcaLfaAllow;
  m.initialization.push_back(makeEntry(kVhtCcaPolicy, cca));
  m.directives.push_back(pageEntry(0x80000, 0x3, text("kernel")));
  m.directives.push_back(vpEntry(0, 0x1, 0,
                                 vbsRegisters({{kHvArm64RegisterXPc, 0x1234},
                                               {kHvArm64RegisterX0 + 1, 0x5678}})));
  IgvmVpContextAArch64Cca ctx{};
  ctx.pc = 0x80000;
  ctx.x[0] = 0x40000000;
  m.directives.push_back(vpEntry(0, 0x2, 0, structBytes(ctx)));
  return m;
}

// The files whose JSON dumps are kept in igvm/testdata/golden/<name>.json.
struct GoldenModel {
  const char* name;
  Model model;
  uint32_t version;
  bool allow_undeclared_mask_bits;
};
inline std::vector<GoldenModel> goldenModels() {
  return {{"vector_a", vectorA(), 1, true},
          {"vector_b", vectorB(), 1, false},
          {"vector_c", vectorC(), 2, false},
          {"every_header_x64", everyHeaderX64(), 2, false},
          {"every_header_aarch64", everyHeaderAArch64(), 2, false}};
}

}  // namespace igvmkit::igvm::testing
