// The mshv and mshv-snp backends against the FakeDevice, on both /dev/mshv flavours.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "base/testing/matchers.h"
#include "loader/backend.h"
#include "hv/mshv_abi.h"
#include "hv/testing/fake_device.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

using hv::testing::argOf;
using hv::testing::argWithEntries;
using hv::testing::FakeCall;
using hv::testing::FakeDevice;
using hv::testing::payloadOf;
using hv::testing::payloadWithEntries;

Plan mshvPlan() {
  Plan p = testing::basePlan(BackendKind::kMshv, 2);
  p.ops.push_back(testing::mapAll(p.backend));
  p.ops.push_back(testing::filledPages(0x100000, 1, 0x5A));
  p.ops.push_back(testing::registersOp(1));
  p.ops.push_back(Finalize{});
  return p;
}

Plan mshvSnpPlan() {
  Plan p = testing::basePlan(BackendKind::kMshvSnp);
  p.setup.snp_policy = 0x30000;
  p.ops.push_back(testing::mapAll(p.backend));
  p.ops.push_back(testing::filledPages(0x100000, 2, 0x5A));
  p.ops.push_back(testing::zeroPages(0x102000, 1, PageType::kZero));
  p.ops.push_back(FillParameter{{ParameterKind::kVpCount}, 0x200000, 2 * kPageSize, {}});
  ImportPages shared = testing::zeroPages(0x300000, 1, PageType::kNormal);
  shared.flags = kPageFlagShared;
  p.ops.push_back(shared);
  p.ops.push_back(testing::zeroPages(0x400000, 1, PageType::kSecrets));
  p.ops.push_back(testing::zeroPages(0x401000, 1, PageType::kCpuid));
  ByteVector vmsa(kPageSize, std::byte{0});
  vmsa[0x3B0] = std::byte{1};
  p.ops.push_back(testing::vmsaOp(0, 0x803000, vmsa));
  Finalize fin;
  fin.snp_id = SnpIdBlock{};
  fin.snp_id->id_block[0] = 0xEE;
  fin.snp_id->id_auth[0] = 1;      // id key algorithm
  fin.snp_id->id_auth[0x240] = 2;  // id key curve
  fin.snp_id->id_auth[0xC83] = 9;  // last byte of the author key
  fin.host_data[0] = 0x42;
  p.ops.push_back(fin);
  return p;
}

TEST(MshvBackend, DownstreamPlainSequenceAndRegisters) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kMshv, dev);
  Status s = launch(*backend, mshvPlan());
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_TRUE(dev.violations().empty()) << dev.violations()[0];
  EXPECT_EQ(mshvFlavor(*backend), MshvFlavor::kDownstream);
  EXPECT_EQ(dev.ioctlNames(), (std::vector<std::string>{
                                  "MSHV_CREATE_PARTITION", "MSHV_GET_PARTITION_PROPERTY",
                                  "MSHV_INITIALIZE_PARTITION", "MSHV_CREATE_VP", "MSHV_CREATE_VP",
                                  "MSHV_SET_GUEST_MEMORY", "MSHV_ROOT_HVCALL(SET_VP_REGISTERS)"}));
  auto create = argOf<hv::mshv::mshv_create_partition>(dev.find("MSHV_CREATE_PARTITION")[0]);
  EXPECT_EQ(create.pt_isolation, hv::mshv::kIsolationNone);
  EXPECT_EQ(create.pt_flags, 0x7u);
  auto mem = argOf<hv::mshv::mshv_user_mem_region>(dev.find("MSHV_SET_GUEST_MEMORY")[0]);
  EXPECT_EQ(mem.guest_pfn, 0u);
  EXPECT_EQ(mem.size, testing::kTestMemory);
  EXPECT_EQ(mem.flags, hv::mshv::kMemWritable | hv::mshv::kMemExecutable);
  EXPECT_EQ(backend->vm().memory[0].host[0x100000], std::byte{0x5A});
  const FakeCall* regs = dev.find("MSHV_ROOT_HVCALL(SET_VP_REGISTERS)")[0];
  auto call = argOf<hv::mshv::mshv_root_hvcall>(regs);
  EXPECT_EQ(call.code, hv::mshv::kHvcallSetVpRegisters);
  auto input = payloadWithEntries<hv::mshv::hv_input_set_vp_registers, hv::mshv::hv_register_assoc>(
      regs, call.reps);
  EXPECT_EQ(input.header.vp_index, 1u);
  ASSERT_EQ(input.entries.size(), call.reps);
  // Find RIP and CS among the register entries.
  bool saw_rip = false, saw_cs = false;
  for (const hv::mshv::hv_register_assoc& a : input.entries) {
    if (a.name == hv::mshv::kRegRip) {
      uint64_t rip;
      std::memcpy(&rip, a.value, sizeof(rip));
      EXPECT_EQ(rip, 0x100000u);
      saw_rip = true;
    }
    if (a.name == hv::mshv::kRegCs) {
      hv::mshv::hv_x64_segment_register cs;
      std::memcpy(&cs, a.value, 16);
      EXPECT_EQ(cs.selector, 8);
      // The plan's SVM-form 0x029B (L at bit 9) in Hyper-V's descriptor form: L at bit 13 (Linux
      // include/hyperv/hvgdk_mini.h hv_x64_segment_register), else Hyper-V sees a reserved bit.
      EXPECT_EQ(cs.attributes, 0x209B);
      saw_cs = true;
    }
  }
  EXPECT_TRUE(saw_rip && saw_cs);
}

TEST(MshvBackend, UpstreamPlainWorksThroughThePassThrough) {
  FakeDevice dev;
  dev.setMshvUpstream(true);
  auto backend = makeBackend(BackendKind::kMshv, dev);
  Status s = launch(*backend, mshvPlan());
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(mshvFlavor(*backend), MshvFlavor::kUpstream);
  EXPECT_EQ(dev.find("MSHV_GET_PARTITION_PROPERTY")[0]->result, -ENOTTY);
  EXPECT_TRUE(dev.violations().empty());
}

TEST(MshvSnpBackend, DownstreamSequenceImportsAndCompletion) {
  FakeDevice dev;
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpPlan());
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_TRUE(dev.violations().empty()) << dev.violations()[0];
  EXPECT_EQ(
      dev.ioctlNames(),
      (std::vector<std::string>{
          "MSHV_CREATE_PARTITION", "MSHV_GET_PARTITION_PROPERTY", "MSHV_INITIALIZE_PARTITION",
          "MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY)", "MSHV_CREATE_VP",
          "MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY)", "MSHV_SET_GUEST_MEMORY",
          "MSHV_IMPORT_ISOLATED_PAGES", "MSHV_IMPORT_ISOLATED_PAGES", "MSHV_IMPORT_ISOLATED_PAGES",
          "MSHV_IMPORT_ISOLATED_PAGES", "MSHV_IMPORT_ISOLATED_PAGES", "MSHV_IMPORT_ISOLATED_PAGES",
          "MSHV_COMPLETE_ISOLATED_IMPORT", "MSHV_ROOT_HVCALL(SET_VP_REGISTERS)"}));
  EXPECT_EQ(argOf<hv::mshv::mshv_create_partition>(dev.find("MSHV_CREATE_PARTITION")[0]).pt_isolation,
            hv::mshv::kIsolationSnp);
  auto props = dev.find("MSHV_ROOT_HVCALL(SET_PARTITION_PROPERTY)");
  auto policy = payloadOf<hv::mshv::hv_input_set_partition_property>(props[0]);
  EXPECT_EQ(policy.property_code, hv::mshv::kPropIsolationPolicy);
  EXPECT_EQ(policy.property_value, 0x30000u);
  auto state = payloadOf<hv::mshv::hv_input_set_partition_property>(props[1]);
  EXPECT_EQ(state.property_code, hv::mshv::kPropIsolationState);
  EXPECT_EQ(state.property_value, hv::mshv::kIsolationStateSecure);
  // Imports: page types in the hypervisor's numbering, GPNs in order; the shared page is skipped.
  auto imports = dev.find("MSHV_IMPORT_ISOLATED_PAGES");
  const struct {
    uint8_t type;
    std::vector<uint64_t> gpns;
  } want[] = {{hv::mshv::kIsoPageNormal, {0x100, 0x101}},
              {hv::mshv::kIsoPageZero, {0x102}},
              {hv::mshv::kIsoPageUnmeasured, {0x200, 0x201}},
              {hv::mshv::kIsoPageSecrets, {0x400}},
              {hv::mshv::kIsoPageCpuid, {0x401}},
              {hv::mshv::kIsoPageVmsa, {0x803}}};
  ASSERT_EQ(imports.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    auto h = argWithEntries<hv::mshv::mshv_import_isolated_pages, uint64_t>(
        imports[i], [](const auto& head) { return head.page_count; });
    EXPECT_EQ(h.header.page_type, want[i].type) << i;
    EXPECT_EQ(h.entries, want[i].gpns) << i;
  }
  // The VMSA page was written at its GPA.
  EXPECT_EQ(backend->vm().memory[0].host[0x803000 + 0x3B0], std::byte{1});
  const FakeCall* complete = dev.find("MSHV_COMPLETE_ISOLATED_IMPORT")[0];
  auto data = argOf<hv::mshv::hv_partition_complete_isolated_import_data>(complete);
  const auto* d = reinterpret_cast<const uint8_t*>(&data);
  EXPECT_EQ(d[0], 0xEE);        // id block
  EXPECT_EQ(d[96], 1);          // id key algorithm
  EXPECT_EQ(d[96 + 0x240], 2);  // id key curve
  EXPECT_EQ(d[96 + 0xC83], 9);  // end of the author key
  EXPECT_EQ(d[3300], 0x42);     // host data
  EXPECT_EQ(d[3332], 1);        // id_block_enabled
  EXPECT_EQ(d[3333], 0);        // author_key_enabled
  const FakeCall* sev = dev.find("MSHV_ROOT_HVCALL(SET_VP_REGISTERS)")[0];
  auto sev_regs = payloadWithEntries<hv::mshv::hv_input_set_vp_registers, hv::mshv::hv_register_assoc>(
      sev, argOf<hv::mshv::mshv_root_hvcall>(sev).reps);
  ASSERT_EQ(sev_regs.entries.size(), 1u);
  EXPECT_EQ(sev_regs.entries[0].name, hv::mshv::kRegSevControl);
  uint64_t sev_control;
  std::memcpy(&sev_control, sev_regs.entries[0].value, sizeof(sev_control));
  EXPECT_EQ(sev_control, 0x803001u);
}

TEST(MshvSnpBackend, UpstreamKernelIsRefusedClearly) {
  FakeDevice dev;
  dev.setMshvUpstream(true);
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kUnsupported);
  EXPECT_THAT(s, HasRule("mshv.no_snp"));
  EXPECT_NE(s.error().message.find("needs a downstream (Microsoft) kernel"), std::string::npos);
}

TEST(MshvSnpBackend, UpstreamDetectedByTheProbeIsRefused) {
  // A kernel that accepts the partition but lacks the downstream ioctls.
  FakeDevice dev;
  dev.script("MSHV_GET_PARTITION_PROPERTY",
             [](FakeCall&, void*) { return std::optional<long>(-ENOTTY); });
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("mshv.no_snp"));
  EXPECT_EQ(s.error().message,
            "this /dev/mshv is the upstream flavour, which has no isolated-import ioctls; mshv-snp "
            "needs a downstream (Microsoft) kernel");
  EXPECT_TRUE(dev.find("MSHV_IMPORT_ISOLATED_PAGES").empty());
}

TEST(MshvSnpBackend, MissingDeviceAndFailingImport) {
  {
    FakeDevice dev;
    dev.removeDevice("/dev/mshv");
    auto backend = makeBackend(BackendKind::kMshvSnp, dev);
    Status s = launch(*backend, mshvSnpPlan());
    EXPECT_EQ(s.error().message, "open /dev/mshv failed: No such file or directory (errno 2)");
  }
  FakeDevice dev;
  dev.failOnce("MSHV_IMPORT_ISOLATED_PAGES", EIO);
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpPlan());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "op #1: MSHV_IMPORT_ISOLATED_PAGES failed: Input/output error (errno 5)");
}

TEST(MshvBackend, RetriesHypercallsOnEagain) {
  FakeDevice dev;
  dev.failOnce("MSHV_ROOT_HVCALL(SET_VP_REGISTERS)", EAGAIN);
  auto backend = makeBackend(BackendKind::kMshv, dev);
  ASSERT_TRUE(launch(*backend, mshvPlan()).ok());
  EXPECT_EQ(dev.find("MSHV_ROOT_HVCALL(SET_VP_REGISTERS)").size(), 2u);
}

}  // namespace
}  // namespace igvmkit::loader
