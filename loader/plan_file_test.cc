// plan(const igvm::File&, ...) over IGVM files made with the igvm writer.
#include <gtest/gtest.h>

#include <cstring>

#include "base/testing/matchers.h"
#include "igvm/file.h"
#include "igvm/writer.h"
#include "loader/plan.h"
#include "loader/testing/igvm_images.h"

namespace igvmkit::loader {
namespace {

using ::igvmkit::testing::HasRule;

using testing::ImageSpec;
using testing::makeImage;

constexpr BackendKind kAllBackends[] = {BackendKind::kKvm, BackendKind::kKvmSnp,
                                        BackendKind::kKvmTdx, BackendKind::kMshv,
                                        BackendKind::kMshvSnp};

VmConfig config(uint32_t vcpus = 1) {
  VmConfig c;
  c.memory_size = testing::kTestMemory;
  c.vcpus = vcpus;
  c.cmdline = "console=ttyS0";
  return c;
}

// The bytes every page of the plan's imports and parameter fills puts at each GPA (zeros for
// pages without data), and the VP states.
struct Loaded {
  std::map<uint64_t, ByteVector> pages;
  std::map<uint64_t, PageType> types;
  std::vector<SetVpState> vps;
  size_t finalizes = 0;
};

Loaded load(const Plan& p) {
  Loaded out;
  for (const LaunchOp& op : p.ops) {
    if (const auto* imp = std::get_if<ImportPages>(&op)) {
      for (uint64_t i = 0; i < imp->page_count; ++i) {
        ByteVector page(kPageSize);
        if (imp->data.size() > i * kPageSize) {
          size_t n = std::min<size_t>(kPageSize, imp->data.size() - i * kPageSize);
          std::memcpy(page.data(), imp->data.data() + i * kPageSize, n);
        }
        out.pages[imp->gpa + i * kPageSize] = page;
        out.types[imp->gpa + i * kPageSize] = imp->type;
      }
    } else if (const auto* f = std::get_if<FillParameter>(&op)) {
      const ByteVector bytes = f->contents();
      for (uint64_t off = 0; off < bytes.size(); off += kPageSize) {
        out.pages[f->gpa + off] = ByteVector(bytes.begin() + off,
                                             bytes.begin() + off + kPageSize);
        out.types[f->gpa + off] = PageType::kUnmeasured;
      }
    } else if (const auto* s = std::get_if<SetVpState>(&op)) {
      out.vps.push_back(*s);
    } else if (std::holds_alternative<Finalize>(op)) {
      ++out.finalizes;
    }
  }
  return out;
}

TEST(PlanFile, PlatformFollowsTheBackend) {
  EXPECT_EQ(platformFor(BackendKind::kKvm), igvm::PlatformType::kNative);
  EXPECT_EQ(platformFor(BackendKind::kMshv), igvm::PlatformType::kNative);
  EXPECT_EQ(platformFor(BackendKind::kKvmSnp), igvm::PlatformType::kSevSnp);
  EXPECT_EQ(platformFor(BackendKind::kMshvSnp), igvm::PlatformType::kSevSnp);
  EXPECT_EQ(platformFor(BackendKind::kKvmTdx), igvm::PlatformType::kTdx);
}

TEST(PlanFile, EveryImageOnEveryBackendLoadsItsPages) {
  for (const ImageSpec& spec : testing::imageSpecs()) {
    auto bytes = makeImage(spec);
    ASSERT_TRUE(bytes.ok()) << spec.name << ": " << bytes.error().describe();
    auto file = igvm::File::parse(*bytes);
    ASSERT_TRUE(file.ok()) << spec.name;
    for (BackendKind backend : kAllBackends) {
      SCOPED_TRACE(spec.name + " on " + std::string(backendName(backend)));
      auto p = plan(*file, backend, config(spec.vps));
      if (spec.snp_vmsa_per_vp && backend == BackendKind::kKvmSnp) {
        ASSERT_FALSE(p.ok());
        EXPECT_THAT(p, HasRule("kvm_snp.vmsa_gpa"));
        ASSERT_TRUE(p.error().location.has_value());
        EXPECT_EQ(p.error().location->header_name, "VP_CONTEXT");
        continue;
      }
      ASSERT_TRUE(p.ok()) << p.error().describe();
      EXPECT_EQ(p->backend, backend);
      Loaded l = load(*p);
      EXPECT_EQ(l.finalizes, 1u);
      EXPECT_TRUE(std::holds_alternative<Finalize>(p->ops.back()));
      for (uint32_t i = 0; i < spec.data_pages; ++i) {
        auto it = l.pages.find(0x100000 + i * kPageSize);
        ASSERT_NE(it, l.pages.end()) << "data page " << i;
        EXPECT_EQ(it->second, testing::patternPage(i)) << "data page " << i;
        EXPECT_EQ(l.types[0x100000 + i * kPageSize], PageType::kNormal);
      }
      for (uint32_t i = 0; i < spec.zero_pages; ++i) {
        uint64_t gpa = 0x100000 + (spec.data_pages + i) * kPageSize;
        ASSERT_EQ(l.pages.count(gpa), 1u);
        EXPECT_EQ(l.pages[gpa], ByteVector(kPageSize));
        EXPECT_EQ(l.types[gpa], PageType::kNormal);  // never the firmware's ZERO type
      }
      if (spec.unmeasured) {
        EXPECT_EQ(l.pages[0x300000], testing::patternPage(100));
        EXPECT_EQ(l.types[0x300000], PageType::kUnmeasured);
      }
      if (spec.secrets_cpuid) {
        bool snp = isSnp(backend);
        EXPECT_EQ(l.pages.count(0x302000), snp ? 1u : 0u);
        if (snp) {
          EXPECT_EQ(l.types[0x302000], PageType::kSecrets);
          EXPECT_EQ(l.types[0x303000], PageType::kCpuid);
        }
      }
      if (spec.large_page) {
        for (uint64_t i = 0; i < 512; ++i) {
          ASSERT_EQ(l.pages.count(0x400000 + i * kPageSize), 1u) << i;
          EXPECT_EQ(l.pages[0x400000 + i * kPageSize][0], std::byte(static_cast<uint8_t>(i)));
        }
      }
      if (spec.parameters) {
        uint32_t vp_count = 0;
        std::memcpy(&vp_count, l.pages[0x200000].data(), 4);
        EXPECT_EQ(vp_count, spec.vps);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(l.pages[0x200000].data() + 0x100)),
                  "console=ttyS0");
        igvm::IGVM_VHS_MEMORY_MAP_ENTRY e{};
        std::memcpy(&e, l.pages[0x201000].data(), sizeof(e));
        EXPECT_EQ(e.starting_gpa_page_number, 0u);
        EXPECT_EQ(e.number_of_pages, testing::kTestMemory / kPageSize);
      }
      // VP state: registers on plain backends, VMSAs on SNP, nothing on TDX.
      if (backend == BackendKind::kKvmTdx) {
        EXPECT_TRUE(l.vps.empty());
      } else {
        size_t want = backend == BackendKind::kMshvSnp && !spec.snp_vmsa_per_vp ? 1 : spec.vps;
        ASSERT_EQ(l.vps.size(), want);
        for (uint16_t vp = 0; vp < want; ++vp) {
          const SetVpState& s = l.vps[vp];
          EXPECT_EQ(s.vp_index, vp);
          if (isSnp(backend)) {
            const auto* v = std::get_if<SnpVmsa>(&s.state);
            ASSERT_NE(v, nullptr);
            // kvm-snp: vCPU i takes vp i's VMSA, else vp 0's, always at 0xFFFFFFFFF000.
            EXPECT_EQ(v->page, testing::snpVmsaFor(spec.snp_vmsa_per_vp ? vp : 0));
            EXPECT_EQ(v->gpa, backend == BackendKind::kKvmSnp ? kKvmSnpVmsaGpa
                                                              : 0xFFFFFFFFF000ull - vp * kPageSize);
          } else {
            const auto* r = std::get_if<x86::VpState>(&s.state);
            ASSERT_NE(r, nullptr);
            EXPECT_EQ(r->rip, 0x100000u + vp * 0x10);
            EXPECT_EQ(r->cr3, 0x9000u);
            EXPECT_EQ(r->cs.selector, 0x08);
            EXPECT_EQ(r->gdtr.base, 0x5000u);
          }
        }
      }
    }
  }
}

TEST(PlanFile, SnpPolicyComesFromTheFile) {
  auto bytes = makeImage({.name = "p"});
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto p = plan(*file, BackendKind::kMshvSnp, config());
  ASSERT_TRUE(p.ok()) << p.error().describe();
  EXPECT_EQ(p->setup.snp_policy, 0x30000u);
}

Result<ByteVector> nativeOnly(std::vector<igvm::Entry> extra = {}) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, 1));
  m.add(igvm::pageDataEntry(0x100000, 1, igvm::Blob(testing::patternPage(1))));
  for (igvm::Entry& e : extra) {
    m.add(std::move(e));
  }
  return igvm::write(m, {.version = 2});
}

TEST(PlanFile, RefusesAPlatformTheFileLacks) {
  auto bytes = nativeOnly();
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  for (BackendKind b : {BackendKind::kKvmSnp, BackendKind::kKvmTdx, BackendKind::kMshvSnp}) {
    auto p = plan(*file, b, config());
    ASSERT_FALSE(p.ok());
    EXPECT_THAT(p, HasRule("plan.platform"));
    EXPECT_EQ(p.error().code, Code::kUnsupported);
    EXPECT_NE(p.error().message.find("NATIVE"), std::string::npos) << p.error().message;
  }
  EXPECT_TRUE(plan(*file, BackendKind::kKvm, config()).ok());
  EXPECT_TRUE(plan(*file, BackendKind::kMshv, config()).ok());
}

TEST(PlanFile, RefusesRequiredMemoryOutsideRamAndNamesTheHeader) {
  std::vector<igvm::Entry> extra;
  extra.push_back(igvm::makeEntry(igvm::kVhtRequiredMemory,
                                  igvm::IGVM_VHS_REQUIRED_MEMORY{0x2000000, 1, 0x1000, 0, 0}));
  auto bytes = nativeOnly(std::move(extra));
  ASSERT_TRUE(bytes.ok()) << bytes.error().describe();
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto p = plan(*file, BackendKind::kKvm, config());  // 16 MiB: 0x2000000 is past RAM
  ASSERT_FALSE(p.ok());
  ASSERT_TRUE(p.error().location.has_value());
  EXPECT_EQ(p.error().location->header_name, "REQUIRED_MEMORY");
  VmConfig big = config();
  big.memory_size = 64ull << 20;
  EXPECT_TRUE(plan(*file, BackendKind::kKvm, big).ok());
}

TEST(PlanFile, RefusesABadConfiguration) {
  auto bytes = nativeOnly();
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  VmConfig c = config(0);
  EXPECT_FALSE(plan(*file, BackendKind::kKvm, c).ok());
  c = config();
  c.memory_size = 0x1800;  // not page aligned
  EXPECT_FALSE(plan(*file, BackendKind::kKvm, c).ok());
}

TEST(PlanFile, KvmSnpNeedsAVmsaForVpZero) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 1));
  m.add(igvm::pageDataEntry(0x100000, 1, igvm::Blob(testing::patternPage(1))));
  auto bytes = igvm::write(m, {.version = 2});
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto p = plan(*file, BackendKind::kKvmSnp, config());
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p, HasRule("kvm_snp.vp_missing"));
}

// A relocatable region whose mask covers NATIVE and VSM_ISOLATION (the parser wants a VBS VP
// context for it): with the "keep" policy the loader keeps it at its own GPA when that is a valid
// base, and refuses it otherwise (relocation_test covers moving it).
Result<ByteVector> relocatable(uint64_t min_gpa, uint64_t max_gpa) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, 1));
  m.add(igvm::platformEntry(igvm::PlatformType::kVsmIsolation, 2));
  igvm::IGVM_VHS_RELOCATABLE_REGION r{};
  r.compatibility_mask = 3;
  r.relocation_alignment = 0x200000;
  r.relocation_region_gpa = 0x200000;
  r.relocation_region_size = 0x200000;
  r.minimum_relocation_gpa = min_gpa;
  r.maximum_relocation_gpa = max_gpa;
  r.flags = igvm::kRelocationFlagApplyPc;
  m.add(igvm::makeEntry(igvm::kVhtRelocatableRegion, r));
  m.add(igvm::pageDataEntry(0x200000, 3, igvm::Blob(testing::patternPage(7))));
  m.add(igvm::vpContextEntry(0, 2, 0, igvm::Blob(igvm::vbsRegisterList({{igvm::kHvX64RegisterRip, 0x200000}}))));
  return igvm::write(m, {.version = 2});
}

TEST(PlanFile, RelocatableRegionStaysAtItsOwnBaseOrIsRefused) {
  auto ok_bytes = relocatable(0x200000, 0x800000);
  ASSERT_TRUE(ok_bytes.ok()) << ok_bytes.error().describe();
  auto ok_file = igvm::File::parse(*ok_bytes);
  ASSERT_TRUE(ok_file.ok());
  VmConfig keep = config();
  keep.relocation_policy = RelocationPolicy::kKeep;
  auto p = plan(*ok_file, BackendKind::kKvm, keep);
  ASSERT_TRUE(p.ok()) << p.error().describe();
  Loaded l = load(*p);
  EXPECT_EQ(l.pages[0x200000], testing::patternPage(7));

  auto bad_bytes = relocatable(0x400000, 0x800000);  // its own GPA is below the minimum
  ASSERT_TRUE(bad_bytes.ok()) << bad_bytes.error().describe();
  auto bad_file = igvm::File::parse(*bad_bytes);
  ASSERT_TRUE(bad_file.ok());
  auto refused = plan(*bad_file, BackendKind::kKvm, keep);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused, HasRule("plan.relocation"));
  EXPECT_EQ(refused.error().code, Code::kUnsupported);
}

}  // namespace
}  // namespace igvmkit::loader

namespace igvmkit::loader {
namespace {

// Every backend checks pages, parameter areas and VP contexts against its platform's GPA width
// (igvm/gpa.h: 52 bits on kvm and mshv, 51 on kvm-snp/mshv-snp below the C-bit and on kvm-tdx
// below GPA.SHARED): one error with rule gpa.width naming the GPA and the header.
TEST(PlanFile, EveryBackendRefusesGpasBeyondItsWidthAndTakesThoseJustBelow) {
  auto limitOf = [](BackendKind b) {
    return (b == BackendKind::kKvm || b == BackendKind::kMshv) ? testing::k2To52 : testing::k2To51;
  };
  for (const ImageSpec& spec : testing::gpaWidthSpecs()) {
    auto bytes = makeImage(spec);
    ASSERT_TRUE(bytes.ok()) << spec.name << ": " << bytes.error().describe();
    auto file = igvm::File::parse(*bytes);
    ASSERT_TRUE(file.ok()) << spec.name;
    const uint64_t gpa = spec.page_at.value_or(spec.area_at.value_or(spec.vp_at.value_or(0)));
    for (BackendKind backend : kAllBackends) {
      SCOPED_TRACE(spec.name + " on " + std::string(backendName(backend)));
      if (spec.vp_at && backend == BackendKind::kKvmTdx) {
        continue;  // the images give TDX no VP context
      }
      auto p = plan(*file, backend, config());
      if (gpa < limitOf(backend)) {
        ASSERT_TRUE(p.ok()) << p.error().describe();
        continue;
      }
      ASSERT_FALSE(p.ok());
      EXPECT_THAT(p, HasRule("gpa.width"));
      EXPECT_EQ(p.error().code, Code::kInvalidInput);
      EXPECT_NE(p.error().message.find(" at " + hex(gpa) + " "), std::string::npos)
          << p.error().message;
      EXPECT_NE(p.error().message.find(
                    std::to_string(limitOf(backend) == testing::k2To52 ? 52 : 51) + "-bit"),
                std::string::npos)
          << p.error().message;
      ASSERT_TRUE(p.error().location.has_value());
      EXPECT_EQ(p.error().location->header_name, spec.page_at   ? "PAGE_DATA"
                                                 : spec.area_at ? "PARAMETER_INSERT"
                                                                : "VP_CONTEXT");
      EXPECT_TRUE(p.error().location->offset.has_value());
    }
  }
}

// The last 4 KiB page of the 64-bit space ends at 2^64 (no wrap): beyond every width.
TEST(PlanFile, TopPageIsBeyondTheWidthNotAWrap) {
  auto bytes = makeImage({.name = "top", .page_at = 0xFFFF'FFFF'FFFF'F000});
  ASSERT_TRUE(bytes.ok());
  auto file = igvm::File::parse(*bytes);
  ASSERT_TRUE(file.ok());
  for (BackendKind backend : kAllBackends) {
    auto p = plan(*file, backend, config());
    ASSERT_FALSE(p.ok());
    EXPECT_THAT(p, HasRule("gpa.width")) << backendName(backend);
  }
}

// checkPlan() is the backstop for plans made without plan(): RAM, imports, areas and VMSAs.
TEST(CheckPlan, RefusesOpsBeyondTheBackendsWidth) {
  for (BackendKind backend : kAllBackends) {
    SCOPED_TRACE(backendName(backend));
    const bool wide = backend == BackendKind::kKvm || backend == BackendKind::kMshv;
    const uint64_t limit = wide ? testing::k2To52 : testing::k2To51;
    Plan p = testing::basePlan(backend);
    p.ops.push_back(MapMemory{limit - kPageSize, kPageSize, testing::confidential(backend)});
    p.ops.push_back(testing::zeroPages(limit - kPageSize, 1, PageType::kNormal));
    p.ops.push_back(Finalize{});
    Status below = checkPlan(p);
    if (isSnp(backend)) {
      // basePlan() has no VMSA, which SNP needs; the width is what is under test.
      ASSERT_FALSE(below.ok());
      EXPECT_THAT(below, ::testing::Not(HasRule("gpa.width")));
    } else {
      EXPECT_TRUE(below.ok()) << below.error().describe();
    }
    Plan q = testing::basePlan(backend);
    q.ops.push_back(MapMemory{limit, kPageSize, testing::confidential(backend)});
    q.ops.push_back(Finalize{});
    Status beyond = checkPlan(q);
    ASSERT_FALSE(beyond.ok());
    EXPECT_THAT(beyond, HasRule("gpa.width"));
    EXPECT_NE(beyond.error().message.find("op #"), std::string::npos);
  }
}

}  // namespace
}  // namespace igvmkit::loader
