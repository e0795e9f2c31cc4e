#include "loader/plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "base/size.h"
#include "base/testing/matchers.h"
#include "igvm/defs.h"
#include "loader/testing/test_util.h"
#include "loader/vm_options.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

using testing::basePlan;
using testing::filledPages;
using testing::kTestMemory;
using testing::mapAll;
using testing::sampleVmsaState;
using testing::vmsaOp;
using testing::zeroPages;

TEST(VmConfig, RamSkipsTheMmioGap) {
  VmConfig c;
  c.memory_size = 4ull << 30;  // 4 GiB: 3 GiB below the hole, 1 GiB above 4 GiB
  auto ram = c.ramLayout();
  ASSERT_TRUE(ram.ok()) << ram.error().describe();
  ASSERT_EQ(ram->size(), 2u);
  EXPECT_EQ((*ram)[0], (GpaRange{0, 0xC000'0000}));
  EXPECT_EQ((*ram)[1], (GpaRange{0x1'0000'0000, 0x4000'0000}));
}

TEST(VmConfig, SmallMemoryIsOneRange) {
  VmConfig c;
  c.memory_size = 0x100000;
  auto ram = c.ramLayout();
  ASSERT_TRUE(ram.ok());
  ASSERT_EQ(ram->size(), 1u);
  EXPECT_EQ((*ram)[0], (GpaRange{0, 0x100000}));
}

TEST(VmConfig, RejectsBadConfigurations) {
  VmConfig c;
  c.memory_size = 0x1001;
  EXPECT_THAT(c.ramLayout(), HasRule("config.memory_size"));
  c.memory_size = 0x100000;
  c.vcpus = 0;
  EXPECT_THAT(c.ramLayout(), HasRule("config.vcpus"));
  c.vcpus = 1;
  c.mmio_gaps = {{0x10000, 0x2000}, {0x11000, 0x1000}};
  EXPECT_THAT(c.ramLayout(), HasRule("config.mmio_gap"));
  EXPECT_NE(c.ramLayout().error().message.find("overlap"), std::string::npos);
  c.mmio_gaps = {{0x10001, 0x1000}};
  EXPECT_THAT(c.ramLayout(), HasRule("config.mmio_gap"));
}

// --memory and --cpus of plan and run (vm_options.h): base/size.h's grammar, usage errors.
Result<VmConfig> withMemory(std::string memory) {
  VmOptions o;
  o.memory = std::move(memory);
  return parseVmOptions(o);
}
Result<VmConfig> withCpus(uint64_t cpus) {
  VmOptions o;
  o.cpus = cpus;
  return parseVmOptions(o);
}

TEST(ParseVmOptions, MemorySuffixes) {
  EXPECT_EQ(withMemory("512M")->memory_size, 512ull << 20);
  EXPECT_EQ(withMemory("2G")->memory_size, 2ull << 30);
  EXPECT_EQ(withMemory("64k")->memory_size, 64ull << 10);
  EXPECT_EQ(withMemory("4096")->memory_size, 4096u);
  EXPECT_EQ(withMemory("0x100000")->memory_size, 1u << 20);
  EXPECT_EQ(withMemory("1GiB")->memory_size, 1ull << 30);
  EXPECT_FALSE(parseSize("").ok());
  EXPECT_FALSE(withMemory("12X").ok());
  EXPECT_FALSE(withMemory("M").ok());
  EXPECT_FALSE(withMemory("99999999999999999999G").ok());
  EXPECT_EQ(withMemory("1x").error().code, Code::kUsage);
  EXPECT_EQ(withMemory("4097").error().code, Code::kUsage);
  EXPECT_THAT(withMemory("4097"), HasRule("config.memory"));
}

// RAM is laid out from 0 around the [3 GiB, 4 GiB) gap: it must end within the backend's GPA
// width (igvm/gpa.h), 2^52 on kvm/mshv, 2^51 on the SNP and TDX backends.
TEST(ParseVmOptions, MemoryMustFitTheAddressWidth) {
  VmOptions o;
  o.memory = hex((uint64_t{1} << 52) - (1ull << 30));  // ends exactly at 2^52
  ASSERT_TRUE(parseVmOptions(o, BackendKind::kKvm).ok());
  ASSERT_TRUE(parseVmOptions(o, BackendKind::kMshv).ok());
  for (BackendKind b : {BackendKind::kKvmSnp, BackendKind::kMshvSnp, BackendKind::kKvmTdx}) {
    Result<VmConfig> c = parseVmOptions(o, b);
    ASSERT_FALSE(c.ok()) << backendName(b);
    EXPECT_EQ(c.error().code, Code::kUsage);
    EXPECT_THAT(c, HasRule("config.memory"));
    EXPECT_NE(c.error().message.find("51-bit"), std::string::npos) << c.error().message;
  }
  o.memory = hex((uint64_t{1} << 51) - (1ull << 30));
  EXPECT_TRUE(parseVmOptions(o, BackendKind::kKvmSnp).ok());
  o.memory = hex((uint64_t{1} << 52) - (1ull << 30) + 0x1000);
  EXPECT_THAT(parseVmOptions(o, BackendKind::kKvm), HasRule("config.memory"));
  // 2^58 bytes (issue 12's --memory 274877906944M), and sizes whose layout overflows 64 bits.
  for (const char* big : {"274877906944M", "0xffffffffc0000000", "0xfffffffffffff000"}) {
    Result<VmConfig> c = withMemory(big);
    ASSERT_FALSE(c.ok()) << big;
    EXPECT_EQ(c.error().code, Code::kUsage) << big;
    EXPECT_THAT(c, HasRule("config.memory")) << big;
    EXPECT_EQ(c.error().message, std::string("--memory ") + big +
                                     " does not fit the 52-bit guest physical address space of "
                                     "kvm guests (52 bits is the architectural maximum physical "
                                     "address width)");
  }
  EXPECT_THAT(withMemory("0"), HasRule("config.memory"));
  EXPECT_EQ(withMemory("0").error().code, Code::kUsage);
}

TEST(ParseVmOptions, OneVcpuLimit) {
  EXPECT_EQ(withCpus(igvm::kMaxVcpus)->vcpus, igvm::kMaxVcpus);
  for (uint64_t bad : {uint64_t{0}, uint64_t{igvm::kMaxVcpus} + 1, uint64_t{1} << 32}) {
    Result<VmConfig> c = withCpus(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code, Code::kUsage) << bad;
    EXPECT_THAT(c, HasRule("config.vcpus")) << bad;
  }
  VmConfig direct;
  direct.vcpus = igvm::kMaxVcpus + 1;
  EXPECT_THAT(direct.ramLayout(), HasRule("config.vcpus"));
}

TEST(ParseBackend, RoundTripsEveryName) {
  for (BackendKind k : {BackendKind::kKvm, BackendKind::kKvmSnp, BackendKind::kKvmTdx,
                        BackendKind::kMshv, BackendKind::kMshvSnp}) {
    EXPECT_EQ(*parseBackend(backendName(k)), k);
  }
  Result<BackendKind> bad = parseBackend("xen");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kUsage);
  EXPECT_NE(bad.error().message.find("kvm-snp"), std::string::npos);
}

Plan validSnp() {
  Plan p = basePlan(BackendKind::kKvmSnp);
  p.ops.push_back(mapAll(p.backend));
  p.ops.push_back(filledPages(0x100000, 2, 0xAB));
  p.ops.push_back(vmsaOp(0, kKvmSnpVmsaGpa, testing::vmsaPage(sampleVmsaState())));
  p.ops.push_back(Finalize{});
  return p;
}

TEST(CheckPlan, AcceptsAValidPlanForEachBackend) {
  EXPECT_TRUE(checkPlan(validSnp()).ok()) << checkPlan(validSnp()).error().describe();
  for (BackendKind b : {BackendKind::kKvm, BackendKind::kMshv, BackendKind::kKvmTdx}) {
    Plan p = basePlan(b);
    p.ops.push_back(mapAll(b));
    p.ops.push_back(filledPages(0, 1, 1));
    p.ops.push_back(FillParameter{{ParameterKind::kVpCount}, 0x1000, kPageSize, {}});
    if (b != BackendKind::kKvmTdx) {
      p.ops.push_back(testing::registersOp(0));
    }
    p.ops.push_back(Finalize{});
    Status s = checkPlan(p);
    EXPECT_TRUE(s.ok()) << backendName(b) << ": " << s.error().describe();
  }
}

struct BadCase {
  const char* name;
  BackendKind backend;
  std::function<void(Plan&)> mutate;  // applied to a valid plan for `backend`
  const char* rule;
  const char* message_part;
};

Plan validFor(BackendKind b) {
  if (isSnp(b)) {
    Plan p = validSnp();
    p.backend = b;
    if (b == BackendKind::kMshvSnp) {
      p.ops[2] = vmsaOp(0, 0x800000, testing::vmsaPage(sampleVmsaState()));
    }
    return p;
  }
  Plan p = basePlan(b);
  p.ops.push_back(mapAll(b));
  p.ops.push_back(filledPages(0x100000, 2, 0xAB));
  p.ops.push_back(Finalize{});
  return p;
}

void insertBeforeFinalize(Plan& p, LaunchOp op) { p.ops.insert(p.ops.end() - 1, std::move(op)); }

// Makes the plan's import `pages` zero pages at 0xFFFFFFFFFFFFF000, the last page below 2^64.
std::function<void(Plan&)> zeroImportAtTop(uint64_t pages) {
  return [pages](Plan& p) {
    auto& i = std::get<ImportPages>(p.ops[1]);
    i.gpa = 0xFFFF'FFFF'FFFF'F000;
    i.data = {};
    i.page_count = pages;
  };
}

TEST(CheckPlan, RefusesEachRuleWithAClearError) {
  const BadCase kBad[] = {
      {"outside_ram", BackendKind::kKvm,
       [](Plan& p) { insertBeforeFinalize(p, filledPages(kTestMemory, 1, 1)); }, "plan.outside_ram",
       "op #2: pages 0x1000000-0x1001000 are not inside guest ram or a mapped region"},
      {"in_mmio_gap", BackendKind::kKvm,
       [](Plan& p) {
         p.config.memory_size = 4ull << 30;
         p.ops[1] = zeroPages(0xC000'0000, 1, PageType::kNormal);
       },
       "plan.outside_ram", "pages 0xc0000000-0xc0001000 are not inside guest ram"},
      {"overlap", BackendKind::kKvm,
       [](Plan& p) { insertBeforeFinalize(p, filledPages(0x101000, 1, 1)); }, "plan.overlap",
       "op #2: pages 0x101000-0x102000 overlap pages loaded earlier at 0x100000"},
      {"unmapped", BackendKind::kKvm,
       [](Plan& p) {
         p.ops[0] = MapMemory{0, 0x1000, false};
       },
       "plan.unmapped", "pages 0x100000-0x102000 are not mapped by an earlier map op"},
      {"unaligned_import", BackendKind::kKvm,
       [](Plan& p) { std::get<ImportPages>(p.ops[1]).gpa = 0x100800; }, "plan.import_alignment",
       "import gpa 0x100800 is not page aligned"},
      {"no_pages", BackendKind::kKvm,
       [](Plan& p) { std::get<ImportPages>(p.ops[1]).page_count = 0; }, "plan.import_empty",
       "has no pages"},
      // Past 2^64: the same rule plan() and measure give a wrapping page (igvm/gpa.h); the last
      // page alone ends at 2^64 and is past the width instead.
      {"wrapping", BackendKind::kKvm, zeroImportAtTop(2), "gpa.wrap",
       "(0x2000 bytes) wraps past the end of the 64-bit address space"},
      {"beyond_width", BackendKind::kKvm, zeroImportAtTop(1), "gpa.width",
       "lies beyond the 52-bit guest physical address space"},
      {"data_too_long", BackendKind::kKvm,
       [](Plan& p) { std::get<ImportPages>(p.ops[1]).page_count = 1; }, "plan.import_data",
       "import data 0x2000 exceeds its 0x1 pages"},
      {"unknown_flags", BackendKind::kKvm,
       [](Plan& p) { std::get<ImportPages>(p.ops[1]).flags = 0x80; }, "plan.import_flags",
       "unknown bits"},
      {"vmsa_import", BackendKind::kKvmSnp,
       [](Plan& p) { insertBeforeFinalize(p, zeroPages(0x200000, 1, PageType::kVmsa)); },
       "plan.vmsa_import", "a vmsa is loaded with a vp op"},
      {"secrets_on_kvm", BackendKind::kKvm,
       [](Plan& p) { insertBeforeFinalize(p, zeroPages(0x200000, 1, PageType::kSecrets)); },
       "plan.page_type", "kvm has no secrets pages"},
      {"cpuid_on_tdx", BackendKind::kKvmTdx,
       [](Plan& p) { insertBeforeFinalize(p, zeroPages(0x200000, 1, PageType::kCpuid)); },
       "plan.page_type", "kvm-tdx has no cpuid pages"},
      {"zero_on_tdx", BackendKind::kKvmTdx,
       [](Plan& p) { insertBeforeFinalize(p, zeroPages(0x200000, 1, PageType::kZero)); },
       "plan.page_type", "kvm-tdx has no zero pages"},
      {"multi_page_secrets", BackendKind::kKvmSnp,
       [](Plan& p) { insertBeforeFinalize(p, zeroPages(0x200000, 2, PageType::kSecrets)); },
       "plan.single_page", "secrets import at 0x200000 must be one page"},
      {"shared_secrets", BackendKind::kKvmSnp,
       [](Plan& p) {
         ImportPages i = zeroPages(0x200000, 1, PageType::kSecrets);
         i.flags = kPageFlagShared;
         insertBeforeFinalize(p, i);
       },
       "plan.shared_type", "shared pages at 0x200000 must be normal"},
      {"private_on_kvm", BackendKind::kKvm,
       [](Plan& p) { std::get<MapMemory>(p.ops[0]).is_private = true; }, "plan.private_memory",
       "kvm has no private memory"},
      {"map_unaligned", BackendKind::kKvm,
       [](Plan& p) { std::get<MapMemory>(p.ops[0]).size = 0x1800; }, "plan.map_alignment",
       "is not a nonzero whole number of 4 KiB pages"},
      {"map_outside", BackendKind::kKvm,
       [](Plan& p) { std::get<MapMemory>(p.ops[0]).size = kTestMemory * 2; }, "plan.outside_ram",
       "is partly inside guest ram but not inside one ram range"},
      {"map_twice", BackendKind::kKvm,
       [](Plan& p) {
         p.ops.insert(p.ops.begin() + 1, MapMemory{0x1000, 0x1000, false});
       },
       "plan.map_overlap", "map 0x1000 overlaps the map at 0x0"},
      {"parameter_unaligned", BackendKind::kKvm,
       [](Plan& p) {
         insertBeforeFinalize(p, FillParameter{{}, 0x300000, 100, {}});
       },
       "plan.parameter_alignment", "is not a nonzero whole number of aligned pages"},
      {"parameter_overlap", BackendKind::kKvm,
       [](Plan& p) {
         insertBeforeFinalize(p, FillParameter{{}, 0x100000, kPageSize, {}});
       },
       "plan.overlap", "overlap pages loaded earlier at 0x100000"},
      {"vp_index", BackendKind::kKvm,
       [](Plan& p) { insertBeforeFinalize(p, testing::registersOp(1)); }, "plan.vp_index",
       "vp index 1 is not below 1 vcpus"},
      {"vp_twice", BackendKind::kKvm,
       [](Plan& p) {
         insertBeforeFinalize(p, testing::registersOp(0));
         insertBeforeFinalize(p, testing::registersOp(0));
       },
       "plan.vp_twice", "vp 0 already has its state set"},
      {"registers_on_tdx", BackendKind::kKvmTdx,
       [](Plan& p) { insertBeforeFinalize(p, testing::registersOp(0)); }, "plan.vp_registers",
       "architectural reset state"},
      {"registers_on_snp", BackendKind::kKvmSnp,
       [](Plan& p) { p.ops[2] = testing::registersOp(0); }, "plan.vp_registers",
       "an snp guest starts from its vmsa"},
      {"vmsa_on_kvm", BackendKind::kKvm,
       [](Plan& p) {
         insertBeforeFinalize(p, vmsaOp(0, kKvmSnpVmsaGpa, testing::vmsaPage(sampleVmsaState())));
       },
       "plan.vp_vmsa", "kvm cannot load an snp vmsa"},
      {"vmsa_gpa_on_kvm_snp", BackendKind::kKvmSnp,
       [](Plan& p) { std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).gpa = 0x803000; },
       "kvm_snp.vmsa_gpa",
       "vmsa of vp 0 is at 0x803000, but kvm places every vmsa at 0xfffffffff000"},
      {"vmsa_field_pkru", BackendKind::kKvmSnp,
       [](Plan& p) {
         std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page[0x2E8] = std::byte{1};
       },
       "kvm_snp.vmsa_field", "vmsa byte at offset 0x2e8 is nonzero but kvm cannot set that field"},
      {"vmsa_segment_attr", BackendKind::kKvmSnp,
       [](Plan& p) {
         std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page[0x13] = std::byte{0x10};
       },
       "kvm_snp.vmsa_field", "vmsa cs attributes 0x109b have bits above 11"},
      {"vmsa_gdtr_limit", BackendKind::kKvmSnp,
       [](Plan& p) {
         std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page[0x66] = std::byte{1};
       },
       "kvm_snp.vmsa_field", "vmsa gdtr limit 0x1001f"},
      {"vmsa_no_svme", BackendKind::kKvmSnp,
       [](Plan& p) {
         std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page[0xD1] = std::byte{0x0D};
       },
       "kvm_snp.vmsa_field", "vmsa efer 0xd00 lacks svme"},
      {"vmsa_xcr0", BackendKind::kKvmSnp,
       [](Plan& p) {
         std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page[0x3E8] = std::byte{0};
       },
       "kvm_snp.vmsa_field", "vmsa xcr0 0x0 lacks x87 (bit 0)"},
      {"vmsa_features", BackendKind::kKvmSnp, [](Plan& p) { p.setup.sev_features = 0x21; },
       "kvm_snp.vmsa_field", "vmsa sev_features 0x1 differ from the launch's 0x21"},
      {"vmsa_size", BackendKind::kKvmSnp,
       [](Plan& p) { std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).page.resize(100); },
       "vmsa.size", "vmsa is 0x64 bytes"},
      {"vp_missing_kvm_snp", BackendKind::kKvmSnp, [](Plan& p) { p.config.vcpus = 2; },
       "kvm_snp.vp_missing", "vcpu 1 has no vmsa, but kvm measures one for every vcpu"},
      {"vp_missing_mshv_snp", BackendKind::kMshvSnp,
       [](Plan& p) { p.ops.erase(p.ops.begin() + 2); }, "mshv_snp.vp_missing",
       "vcpu 0 has no vmsa"},
      {"mshv_snp_vmsa_overlap", BackendKind::kMshvSnp,
       [](Plan& p) { std::get<SnpVmsa>(std::get<SetVpState>(p.ops[2]).state).gpa = 0x101000; },
       "plan.overlap", "overlap pages loaded earlier at 0x100000"},
      {"policy_bit17", BackendKind::kKvmSnp, [](Plan& p) { p.setup.snp_policy = 0x10000; },
       "plan.snp_policy", "does not set bit 17"},
      {"id_block_on_kvm", BackendKind::kKvm,
       [](Plan& p) { std::get<Finalize>(p.ops.back()).snp_id = SnpIdBlock{}; }, "plan.id_block",
       "kvm has no snp id block"},
      {"finalize_not_last", BackendKind::kKvm,
       [](Plan& p) { p.ops.insert(p.ops.begin() + 1, Finalize{}); }, "plan.finalize_last",
       "finalize must be the last op"},
      {"no_finalize", BackendKind::kKvm, [](Plan& p) { p.ops.pop_back(); }, "plan.no_finalize",
       "the plan does not end with finalize"},
  };
  for (const BadCase& c : kBad) {
    Plan p = validFor(c.backend);
    ASSERT_TRUE(checkPlan(p).ok())
        << c.name << ": base plan must be valid: " << checkPlan(p).error().describe();
    c.mutate(p);
    Status s = checkPlan(p);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_THAT(s, HasRule(c.rule)) << c.name << ": " << s.error().message;
    EXPECT_NE(s.error().message.find(c.message_part), std::string::npos)
        << c.name << ": got '" << s.error().message << "'";
  }
}

TEST(CheckPlan, AcceptsAnExtraRegionOutsideRam) {
  // Firmware just below 4 GiB, in the MMIO hole: its own mapped region, not RAM.
  Plan p = basePlan(BackendKind::kKvm);
  p.ops.push_back(mapAll(p.backend));
  p.ops.push_back(MapMemory{0xFFC0'0000, 0x40'0000, false});
  p.ops.push_back(filledPages(0xFFFF'F000, 1, 0x90));
  p.ops.push_back(Finalize{});
  Status s = checkPlan(p);
  EXPECT_TRUE(s.ok()) << s.error().describe();
}

TEST(Coalesce, MergesAdjacentDataAndZeroRuns) {
  auto data = std::make_shared<ByteVector>(3 * kPageSize, std::byte{7});
  Plan p = basePlan(BackendKind::kKvmSnp);
  p.ops.push_back(mapAll(p.backend));
  for (uint64_t i = 0; i < 3; ++i) {
    ImportPages op;
    op.gpa = 0x10000 + i * kPageSize;
    op.data = Bytes(*data).subspan(i * kPageSize, kPageSize);
    op.keep_alive = data;
    p.ops.push_back(op);
  }
  p.ops.push_back(zeroPages(0x13000, 1, PageType::kZero));
  p.ops.push_back(zeroPages(0x14000, 2, PageType::kZero));
  p.ops.push_back(zeroPages(0x16000, 1, PageType::kSecrets));
  p.ops.push_back(zeroPages(0x17000, 1, PageType::kSecrets));  // secrets never merge
  p.ops.push_back(zeroPages(0x19000, 1, PageType::kZero));     // not contiguous with 0x15000
  p.ops.push_back(Finalize{});
  coalesce(p);
  ASSERT_EQ(p.ops.size(), 7u);
  const auto& merged = std::get<ImportPages>(p.ops[1]);
  EXPECT_EQ(merged.gpa, 0x10000u);
  EXPECT_EQ(merged.page_count, 3u);
  EXPECT_EQ(merged.data.size(), 3 * kPageSize);
  EXPECT_EQ(merged.data.data(), data->data());
  const auto& zeros = std::get<ImportPages>(p.ops[2]);
  EXPECT_EQ(zeros.page_count, 3u);
  EXPECT_EQ(std::get<ImportPages>(p.ops[3]).page_count, 1u);
  EXPECT_EQ(std::get<ImportPages>(p.ops[4]).page_count, 1u);
  EXPECT_EQ(std::get<ImportPages>(p.ops[5]).gpa, 0x19000u);
}

TEST(Coalesce, KeepsApartWhatDiffers) {
  Plan p = basePlan(BackendKind::kKvm);
  p.ops.push_back(filledPages(0x10000, 1, 1));
  p.ops.push_back(filledPages(0x11000, 1, 1));  // separate buffers: not adjacent in memory
  ImportPages shared = zeroPages(0x12000, 1, PageType::kNormal);
  shared.flags = kPageFlagShared;
  p.ops.push_back(shared);
  p.ops.push_back(zeroPages(0x13000, 1, PageType::kNormal));      // flags differ from the previous
  p.ops.push_back(zeroPages(0x14000, 1, PageType::kUnmeasured));  // type differs
  coalesce(p);
  EXPECT_EQ(p.ops.size(), 5u);
}

TEST(Render, TextAndJsonDescribeEveryOp) {
  Plan p = validSnp();
  p.ops.insert(p.ops.begin() + 2,
               FillParameter{{ParameterKind::kMemoryMap, ParameterKind::kCommandLine},
                             0x200000, kPageSize, {}});
  std::string text = renderText(p);
  EXPECT_NE(text.find("backend kvm-snp memory=0x1000000 vcpus=1"), std::string::npos) << text;
  EXPECT_NE(text.find("0 map gpa=0x0 size=0x1000000 private"), std::string::npos) << text;
  EXPECT_NE(text.find("1 import gpa=0x100000 pages=2 type=normal data=0x2000"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2 parameter gpa=0x200000 size=0x1000 holds=memory_map,command_line"),
            std::string::npos);
  EXPECT_NE(text.find("3 vp index=0 vmsa gpa=0xfffffffff000"), std::string::npos) << text;
  EXPECT_NE(text.find("4 finalize"), std::string::npos) << text;
  nlohmann::ordered_json j = renderJson(p);
  EXPECT_EQ(j["backend"], "kvm-snp");
  EXPECT_EQ(j["vcpus"], 1);
  EXPECT_EQ(j["ram"][0]["size"], kTestMemory);
  ASSERT_EQ(j["ops"].size(), 5u);
  EXPECT_EQ(j["ops"][1]["op"], "import");
  EXPECT_EQ(j["ops"][1]["pages"], 2);
  EXPECT_EQ(j["ops"][1]["type"], "normal");
  EXPECT_EQ(j["ops"][2]["holds"][1], "command_line");
  EXPECT_EQ(j["ops"][3]["kind"], "vmsa");
  EXPECT_EQ(j["ops"][3]["gpa"], kKvmSnpVmsaGpa);
  EXPECT_EQ(j["ops"][4]["id_block"], false);
}

}  // namespace
}  // namespace igvmkit::loader
