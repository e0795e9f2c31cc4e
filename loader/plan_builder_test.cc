#include "loader/plan_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "base/testing/matchers.h"
#include "igvm/defs.h"
#include "igvm/file.h"
#include "igvm/testing/test_image.h"
#include "loader/backend.h"
#include "loader/params.h"
#include "hv/testing/fake_device.h"
#include "loader/testing/snp_psp.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;
using ::igvmkit::testing::IsOk;
using ::igvmkit::testing::StatusIs;

VmConfig smallConfig(uint32_t vcpus = 1) {
  VmConfig c;
  c.memory_size = testing::kTestMemory;
  c.vcpus = vcpus;
  c.cmdline = "console=ttyS0";
  return c;
}

ByteVector kvmVmsa() { return testing::vmsaPage(testing::sampleVmsaState()); }

template <class T>
const T& opAt(const Plan& p, size_t i) {
  return std::get<T>(p.ops.at(i));
}

TEST(PlanBuilder, MapsPageDataTypesAndFlags) {
  PlanBuilder b(BackendKind::kKvmSnp, smallConfig());
  ByteVector page(kPageSize, std::byte{1});
  ASSERT_TRUE(b.pageData(0x10000, 0, kIgvmDataNormal, page).ok());
  ASSERT_TRUE(b.pageData(0x20000, 0, kIgvmDataNormal, {}).ok());  // zeros: NORMAL
  ASSERT_TRUE(b.pageData(0x30000, kIgvmPageUnmeasured, kIgvmDataNormal, {}).ok());
  ASSERT_TRUE(b.pageData(0x40000, 0, kIgvmDataSecrets, {}).ok());
  ASSERT_TRUE(b.pageData(0x41000, 0, kIgvmDataCpuidXf, {}).ok());
  ASSERT_TRUE(b.pageData(0x50000, kIgvmPageShared, kIgvmDataNormal, {}).ok());  // kvm: measured
  ASSERT_TRUE(b.pageData(0x200000, kIgvmPageIs2Mb, kIgvmDataNormal, {}).ok());
  ASSERT_TRUE(b.vpContextSnp(0, kKvmSnpVmsaGpa, kvmVmsa()).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  ASSERT_EQ(p->ops.size(), 10u);
  EXPECT_TRUE(opAt<MapMemory>(*p, 0).is_private);
  EXPECT_EQ(opAt<ImportPages>(*p, 1).type, PageType::kNormal);
  EXPECT_EQ(opAt<ImportPages>(*p, 1).data.size(), kPageSize);
  EXPECT_EQ(opAt<ImportPages>(*p, 2).type, PageType::kNormal);
  EXPECT_TRUE(opAt<ImportPages>(*p, 2).data.empty());
  EXPECT_EQ(opAt<ImportPages>(*p, 3).type, PageType::kUnmeasured);
  EXPECT_EQ(opAt<ImportPages>(*p, 4).type, PageType::kSecrets);
  EXPECT_EQ(opAt<ImportPages>(*p, 5).type, PageType::kCpuid);
  EXPECT_EQ(opAt<ImportPages>(*p, 6).flags, 0u);
  EXPECT_EQ(opAt<ImportPages>(*p, 7).page_count, 512u);
  EXPECT_EQ(std::get<SnpVmsa>(opAt<SetVpState>(*p, 8).state).gpa, kKvmSnpVmsaGpa);
}

TEST(PlanBuilder, SharedPagesStayUnmeasuredOnMshvSnpAndTdx) {
  for (BackendKind k : {BackendKind::kMshvSnp, BackendKind::kKvmTdx}) {
    PlanBuilder b(k, smallConfig());
    ASSERT_TRUE(b.pageData(0x50000, kIgvmPageShared, kIgvmDataNormal, {}).ok());
    if (k == BackendKind::kMshvSnp) {
      ASSERT_TRUE(b.vpContextSnp(0, 0x60000, kvmVmsa()).ok());
    }
    Result<Plan> p = b.finish();
    ASSERT_TRUE(p.ok()) << p.error().describe();
    EXPECT_EQ(opAt<ImportPages>(*p, 1).flags, kPageFlagShared) << backendName(k);
  }
}

TEST(PlanBuilder, KvmSnpPutsOneVmsaPerVcpuLast) {
  PlanBuilder b(BackendKind::kKvmSnp, smallConfig(3));
  ByteVector vp0 = kvmVmsa();
  x86::VpState st = testing::sampleVmsaState();
  st.rip = 0x200000;
  ByteVector vp2 = testing::vmsaPage(st);
  ASSERT_TRUE(b.vpContextSnp(2, kKvmSnpVmsaGpa, vp2).ok());
  ASSERT_TRUE(b.vpContextSnp(0, kKvmSnpVmsaGpa, vp0).ok());
  ASSERT_TRUE(b.pageData(0x10000, 0, kIgvmDataNormal, {}).ok());  // after the contexts in the file
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  ASSERT_EQ(p->ops.size(), 6u);
  EXPECT_TRUE(std::holds_alternative<ImportPages>(p->ops[1]));
  for (uint32_t i = 0; i < 3; ++i) {
    const auto& s = opAt<SetVpState>(*p, 2 + i);
    EXPECT_EQ(s.vp_index, i);
    EXPECT_EQ(std::get<SnpVmsa>(s.state).page, i == 2 ? vp2 : vp0)
        << i;  // vCPU 1 falls back to vp 0
  }
}

TEST(PlanBuilder, MshvSnpKeepsTheVmsaInPlace) {
  PlanBuilder b(BackendKind::kMshvSnp, smallConfig());
  ASSERT_TRUE(b.pageData(0x10000, 0, kIgvmDataNormal, {}).ok());
  ASSERT_TRUE(b.vpContextSnp(0, 0x803000, kvmVmsa()).ok());
  ASSERT_TRUE(b.pageData(0x20000, 0, kIgvmDataNormal, {}).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(std::get<SnpVmsa>(opAt<SetVpState>(*p, 2).state).gpa, 0x803000u);
  EXPECT_EQ(opAt<ImportPages>(*p, 3).gpa, 0x20000u);
}

TEST(PlanBuilder, ParameterAreasAreFilledAndInsertedWhole) {
  PlanBuilder b(BackendKind::kKvm, smallConfig(2));
  ASSERT_TRUE(b.parameterArea(7, 2 * kPageSize, {}).ok());
  ASSERT_TRUE(b.parameter(ParameterKind::kVpCount, 7, 0).ok());
  ASSERT_TRUE(b.parameter(ParameterKind::kCommandLine, 7, 0x10).ok());
  ASSERT_TRUE(b.parameter(ParameterKind::kMemoryMap, 7, 0x1000).ok());
  ASSERT_TRUE(b.parameter(ParameterKind::kEnvironmentInfo, 7, 0x8).ok());
  ASSERT_TRUE(b.parameterInsert(0x40000, 7).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const auto& f = opAt<FillParameter>(*p, 1);
  EXPECT_EQ(f.gpa, 0x40000u);
  ASSERT_EQ(f.size, 2 * kPageSize);
  EXPECT_EQ(f.kinds.size(), 4u);
  const ByteVector bytes = f.contents();
  ASSERT_EQ(bytes.size(), 2 * kPageSize);
  EXPECT_EQ(*readStruct<uint32_t>(bytes, 0), 2u);
  EXPECT_EQ(std::memcmp(bytes.data() + 0x10, "console=ttyS0\0", 14), 0);
  auto entry = *readStruct<IGVM_VHS_MEMORY_MAP_ENTRY>(bytes, 0x1000);
  EXPECT_EQ(entry.number_of_pages, testing::kTestMemory / kPageSize);
  EXPECT_EQ(readStruct<IGVM_VHS_MEMORY_MAP_ENTRY>(bytes, 0x1018)->number_of_pages, 0u);
}

// Issue 12: areas are represented, not allocated. The bytes a plan holds for an area are what its
// initial data and parameters wrote, whatever size the area header claims.
size_t heldBytes(const FillParameter& f) {
  size_t n = 0;
  for (const AreaWrite& w : f.writes) {
    n += w.bytes.size();
  }
  return n;
}

TEST(PlanBuilder, ALargestAreaHoldsOnlyWhatItsParametersWrite) {
  PlanBuilder b(BackendKind::kKvm, smallConfig(2));
  ASSERT_THAT(b.parameterArea(0, igvm::kMaxParameterAreaBytes, {}), IsOk());
  ASSERT_THAT(b.parameter(ParameterKind::kVpCount, 0, 0), IsOk());
  ASSERT_THAT(b.parameterInsert(0x40000000, 0), IsOk());
  Result<Plan> p = b.finish();
  ASSERT_THAT(p, IsOk());
  const FillParameter* f = nullptr;
  for (const LaunchOp& op : p->ops) {
    if (const auto* fp = std::get_if<FillParameter>(&op)) {
      f = fp;
    }
  }
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->size, igvm::kMaxParameterAreaBytes);
  EXPECT_EQ(heldBytes(*f), 4u);  // the VP count
}

TEST(PlanBuilder, ManyOnePageAreasHoldNothing) {
  // 262,144 one-page areas: 1 GiB together, exactly the limit; one more page is refused.
  constexpr uint32_t kAreas = igvm::kMaxParameterAreasTotalBytes / kPageSize;
  PlanBuilder b(BackendKind::kKvm, smallConfig(1));
  for (uint32_t i = 0; i < kAreas; ++i) {
    ASSERT_THAT(b.parameterArea(i, kPageSize, {}), IsOk()) << i;
  }
  EXPECT_THAT(b.parameterArea(kAreas, kPageSize, {}),
              StatusIs(Code::kInvalidInput, "plan.area_size"));
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_THAT(b.parameterInsert(0x100000 + i * kPageSize, i), IsOk());
  }
  Result<Plan> p = b.finish();
  ASSERT_THAT(p, IsOk());
  size_t areas = 0;
  for (const LaunchOp& op : p->ops) {
    if (const auto* f = std::get_if<FillParameter>(&op)) {
      ++areas;
      EXPECT_EQ(heldBytes(*f), 0u);
    }
  }
  EXPECT_EQ(areas, 4u);
}

TEST(PlanBuilder, FourOneGibAreasAreRefused) {
  // Issue 12: a 304-byte file with four 1 GiB areas made plan allocate 4 GiB. The parser refuses
  // it (parameter_area.limit, the one limit check, measure, plan and libigvm share), naming the
  // second area's header; the builder refuses the same sequence itself.
  igvm::testing::TestImage t;
  t.platform(igvm::PlatformType::kSevSnp, 0x1);
  std::vector<size_t> headers;
  for (uint32_t i = 0; i < 4; ++i) {
    headers.push_back(t.parameterArea(i, igvm::kMaxParameterAreaBytes));
  }
  Result<igvm::File> file = igvm::File::parse(t.bytes());
  ASSERT_THAT(file, HasRule("parameter_area.limit"));
  ASSERT_TRUE(file.error().location.has_value());
  EXPECT_EQ(file.error().location->header_index, headers[1]);
  EXPECT_EQ(file.error().location->offset, t.entryOffset(headers[1]));
  PlanBuilder b(BackendKind::kKvm, smallConfig());
  ASSERT_THAT(b.parameterArea(0, igvm::kMaxParameterAreaBytes, {}), IsOk());
  EXPECT_THAT(b.parameterArea(1, igvm::kMaxParameterAreaBytes, {}),
              StatusIs(Code::kInvalidInput, "plan.area_size"));
}

TEST(PlanBuilder, RefusesParameterAreaMisuse) {
  PlanBuilder b(BackendKind::kKvm, smallConfig());
  ASSERT_TRUE(b.parameterArea(1, kPageSize, {}).ok());
  EXPECT_EQ(b.parameterArea(1, kPageSize, {}).error().message,
            "parameter area 1 is declared twice");
  EXPECT_THAT(b.parameterArea(2, 100, {}), HasRule("plan.area_size"));
  EXPECT_EQ(b.parameter(ParameterKind::kVpCount, 9, 0).error().message,
            "a parameter names undeclared parameter area 9");
  EXPECT_THAT(b.parameter(ParameterKind::kVpCount, 1, 0xFFE), HasRule("params.too_large"));
  EXPECT_EQ(b.parameter(ParameterKind::kSrat, 1, 0).error().code, Code::kUnsupported);
  ASSERT_TRUE(b.parameterInsert(0x1000, 1).ok());
  EXPECT_EQ(b.parameter(ParameterKind::kVpCount, 1, 0).error().message,
            "a parameter names parameter area 1, which was already inserted");
  EXPECT_FALSE(b.parameterInsert(0x3000, 1).ok());
}

TEST(PlanBuilder, RefusesBadPageData) {
  PlanBuilder b(BackendKind::kKvm, smallConfig());
  EXPECT_THAT(b.pageData(0x1800, 0, 0, {}), HasRule("plan.page_alignment"));
  EXPECT_EQ(b.pageData(0x1000, 0, 9, {}).error().message,
            "page data at 0x1000 has unknown data type 0x9");
  ByteVector big(kPageSize + 1);
  EXPECT_THAT(b.pageData(0x1000, 0, 0, big), HasRule("plan.page_data_size"));
  EXPECT_THAT(b.pageData(0x1000, kIgvmPageIs2Mb, 0, {}), HasRule("plan.page_alignment"));
}

TEST(PlanBuilder, RefusesContextsTheBackendCannotLoad) {
  PlanBuilder kvm_snp(BackendKind::kKvmSnp, smallConfig());
  EXPECT_THAT(kvm_snp.vpContextSnp(0, 0x803000, kvmVmsa()), HasRule("kvm_snp.vmsa_gpa"));
  EXPECT_THAT(kvm_snp.finish(), HasRule("kvm_snp.vp_missing"));
  // One VMSA per vCPU at KVM's GPA (an OVMF launch with APs): a vCPU count below the file's is
  // refused, as QEMU refuses a VP context for a vCPU the VM does not have.
  PlanBuilder two(BackendKind::kKvmSnp, smallConfig());
  ASSERT_TRUE(two.vpContextSnp(0, kKvmSnpVmsaGpa, kvmVmsa()).ok());
  Status ap = two.vpContextSnp(1, kKvmSnpVmsaGpa, kvmVmsa());
  ASSERT_FALSE(ap.ok());
  EXPECT_THAT(ap, HasRule("kvm_snp.vp_count"));
  EXPECT_EQ(ap.error().message, "the file has a vmsa for vp 1 but the vm has 1 vcpus; give at least 2");
  PlanBuilder tdx(BackendKind::kKvmTdx, smallConfig());
  EXPECT_THAT(tdx.vpContextSnp(0, 0x803000, kvmVmsa()), HasRule("plan.vp_vmsa"));
  EXPECT_THAT(tdx.vpContextNative(0, ByteVector(kPageSize)), HasRule("plan.vp_registers"));
  EXPECT_THAT(tdx.setGuestPolicy(4), HasRule("plan.tdx_policy"));
  PlanBuilder kvm(BackendKind::kKvm, smallConfig());
  EXPECT_THAT(kvm.vpContextSnp(0, kKvmSnpVmsaGpa, kvmVmsa()), HasRule("plan.vp_vmsa"));
  EXPECT_THAT(kvm.requiredMemory(testing::kTestMemory, 0x1000),
              HasRule("plan.required_memory"));
  EXPECT_TRUE(kvm.requiredMemory(0, 0x1000).ok());
}

TEST(PlanBuilder, TdxPolicyBecomesAttributes) {
  PlanBuilder b(BackendKind::kKvmTdx, smallConfig());
  ASSERT_TRUE(b.setGuestPolicy(3).ok());
  ASSERT_TRUE(b.pageData(0, 0, 0, {}).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->setup.tdx_attributes, (1ull << 28) | 1);
}

TEST(PlanBuilder, NativeContextBecomesRegisters) {
  ByteVector c(kPageSize, std::byte{0});
  auto put = [&](size_t off, auto v) { std::memcpy(c.data() + off, &v, sizeof(v)); };
  put(0x20, uint64_t{0x8FF0});    // rsp
  put(0x80, uint64_t{0x100000});  // rip
  put(0x88, uint64_t{2});         // rflags
  put(0x9E, uint16_t{0x1F});      // gdtr limit
  put(0xA0, uint64_t{0x500});     // gdtr base
  put(0xA8, uint16_t{0x08});      // code selector
  put(0xAA, uint16_t{0xA09B});    // code attributes, descriptor form: G, L, P, S, type B
  put(0xB0, uint32_t{0xFFFFFFFF});
  put(0xB4, uint16_t{0x10});
  put(0xB6, uint16_t{0xC093});
  put(0xC0, uint64_t{0x7777});  // gs base
  put(0xC8, uint64_t{0x80000011});
  put(0xD0, uint64_t{0x9000});
  put(0xD8, uint64_t{0x20});
  put(0xE0, uint64_t{0x500});
  PlanBuilder b(BackendKind::kKvm, smallConfig());
  ASSERT_TRUE(b.vpContextNative(0, c).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const x86::VpState& r = std::get<x86::VpState>(opAt<SetVpState>(*p, 1).state);
  EXPECT_EQ(r.rip, 0x100000u);
  EXPECT_EQ(r.rsp, 0x8FF0u);
  // The plan keeps the context's descriptor form; in the SVM form G and L sit at bits 11 and 9.
  EXPECT_EQ(r.cs.attributes, 0xA09B);
  EXPECT_EQ(x86::svmAttributes(r.cs.attributes), 0x0A9B);
  EXPECT_EQ(x86::svmAttributes(r.ss.attributes), 0x0C93);
  EXPECT_EQ(r.ds.selector, 0x10);
  EXPECT_EQ(r.gs.base, 0x7777u);
  EXPECT_EQ(r.fs.base, 0u);
  EXPECT_EQ(r.gdtr.base, 0x500u);
  EXPECT_EQ(r.gdtr.limit, 0x1F);
  EXPECT_EQ(r.cr0, 0x80000011u);
  EXPECT_EQ(r.efer, 0x500u);
  put(0xAA, uint16_t{0x0F9B});
  PlanBuilder bad(BackendKind::kKvm, smallConfig());
  EXPECT_THAT(bad.vpContextNative(0, c), HasRule("plan.native_context"));
}

TEST(PlanBuilder, FileDataOutsideRamGetsItsOwnRegion) {
  VmConfig c = smallConfig();
  c.memory_size = 4ull << 30;
  PlanBuilder b(BackendKind::kKvm, c);
  ASSERT_TRUE(b.pageData(0xFFFF'E000, 0, 0, {}).ok());
  ASSERT_TRUE(b.pageData(0xFFFF'F000, 0, 0, {}).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const auto& extra = opAt<MapMemory>(*p, 2);
  EXPECT_EQ(extra.gpa, 0xFFFF'E000u);
  EXPECT_EQ(extra.size, 0x2000u);
  EXPECT_EQ(opAt<ImportPages>(*p, 3).page_count, 2u);  // coalesced
}

TEST(PlanBuilder, IdBlockIsConvertedToFirmwareLayout) {
  ByteVector igvm(kIgvmSnpIdBlockSize, std::byte{0});
  for (size_t i = 0; i < 48; ++i) {
    igvm[0x08 + i] = std::byte{static_cast<uint8_t>(0xA0 + i % 16)};
  }
  igvm[0x04] = std::byte{1};      // author key enabled
  igvm[0x38] = std::byte{0xF1};   // family id
  igvm[0x48] = std::byte{0x11};   // image id
  igvm[0x58] = std::byte{7};      // version: forced to 1
  igvm[0x5C] = std::byte{5};      // svn
  igvm[0x60] = std::byte{1};      // id key algorithm
  igvm[0x68] = std::byte{0x51};   // r[0]
  igvm[0xB0] = std::byte{0x52};   // s[0]
  igvm[0xF8] = std::byte{2};      // curve
  igvm[0xFC] = std::byte{0xFF};   // IGVM's reserved word: dropped
  igvm[0x100] = std::byte{0x71};  // qx[0]
  igvm[0x148] = std::byte{0x72};  // qy[0]
  igvm[0x228] = std::byte{0x81};  // author qx[0]
  PlanBuilder b(BackendKind::kKvmSnp, smallConfig());
  ASSERT_TRUE(b.setGuestPolicy(0x30000).ok());
  ASSERT_TRUE(b.snpIdBlock(igvm).ok());
  EXPECT_EQ(b.snpIdBlock(igvm).error().message, "a second snp id block");
  ASSERT_TRUE(b.vpContextSnp(0, kKvmSnpVmsaGpa, kvmVmsa()).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  const Finalize& f = std::get<Finalize>(p->ops.back());
  ASSERT_TRUE(f.snp_id.has_value());
  const auto& blk = f.snp_id->id_block;
  const auto& auth = f.snp_id->id_auth;
  EXPECT_EQ(blk[0], 0xA0);
  EXPECT_EQ(blk[47], 0xAF);
  EXPECT_EQ(blk[0x30], 0xF1);
  EXPECT_EQ(blk[0x40], 0x11);
  EXPECT_EQ(blk[0x50], 1);
  EXPECT_EQ(blk[0x54], 5);
  uint64_t policy;
  std::memcpy(&policy, blk.data() + 0x58, 8);
  EXPECT_EQ(policy, 0x30000u);
  EXPECT_EQ(auth[0], 1);
  EXPECT_EQ(auth[0x40], 0x51);
  EXPECT_EQ(auth[0x40 + 72], 0x52);
  EXPECT_EQ(auth[0x240], 2);
  EXPECT_EQ(auth[0x244], 0x71);
  EXPECT_EQ(auth[0x244 + 72], 0x72);
  EXPECT_EQ(auth[0x884], 0x81);
  EXPECT_TRUE(f.snp_id->author_key_enabled);
}

TEST(PlanBuilder, KvmSnpPlanLaunchesInContractOrder) {
  // Page data, a parameter insert and a VMSA in the middle of the file: the PSP sees the pages in
  // file order, the parameter area as unmeasured pages, and the VMSA last.
  PlanBuilder b(BackendKind::kKvmSnp, smallConfig());
  ASSERT_TRUE(b.parameterArea(0, 2 * kPageSize, {}).ok());
  ASSERT_TRUE(b.parameter(ParameterKind::kVpCount, 0, 0).ok());
  ASSERT_TRUE(b.pageData(0x10000, 0, 0, {}).ok());
  ASSERT_TRUE(b.vpContextSnp(0, kKvmSnpVmsaGpa, kvmVmsa()).ok());
  ASSERT_TRUE(b.parameterInsert(0x20000, 0).ok());
  ASSERT_TRUE(b.pageData(0x30000, kIgvmPageUnmeasured, 0, {}).ok());
  Result<Plan> p = b.finish();
  ASSERT_TRUE(p.ok()) << p.error().describe();
  hv::testing::FakeDevice dev;
  testing::SnpPsp psp(dev);
  Status s = launch(*makeBackend(BackendKind::kKvmSnp, dev), *p);
  ASSERT_TRUE(s.ok()) << s.error().describe();
  const struct {
    uint8_t type;
    uint64_t gpa;
  } want[] = {{1, 0x10000}, {4, 0x20000}, {4, 0x21000}, {4, 0x30000}, {2, kKvmSnpVmsaGpa}};
  ASSERT_EQ(psp.trace().size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(psp.trace()[i].type, want[i].type) << i;
    EXPECT_EQ(psp.trace()[i].gpa, want[i].gpa) << i;
  }
  EXPECT_EQ(psp.kvmVmsas()[0], kvmVmsa());
}

}  // namespace
}  // namespace igvmkit::loader
