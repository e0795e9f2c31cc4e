// The simulated SNP PSP and TDX module, fed by the backends through the FakeDevice, against the
// single-page vectors of measurement.md §1.3 and §3.1.
#include <gtest/gtest.h>

#include <cstring>

#include "loader/backend.h"
#include "hv/testing/fake_device.h"
#include "loader/testing/snp_psp.h"
#include "loader/testing/tdx_module.h"
#include "loader/testing/test_util.h"

namespace igvmkit::loader {
namespace {

using hv::testing::FakeDevice;
using testing::SnpPsp;
using testing::TdxModule;

// measurement.md §1.3 (computed with sev-snp-measure, checked against an independent formula).
constexpr char kSnpNormalZeroAt0[] =
    "9d13634b6014bb21cf059b2dc694e7bff01a8a7137041100cd2b695f3d10fb687267b97808b27f8f471d943bc6f53a"
    "20";
constexpr char kSnpZeroAt0[] =
    "70c0ecaab9608f14ebf8ac6f0f07bcd8728f4e2ab30382b539b4de4de904ca9f8ebdf4b2cd3cd84dd996bd55dd7946"
    "76";
constexpr char kSnpUnmeasuredAt1000[] =
    "81475a112c0223cebe1ccb31a0aa2567772871200b33515a3cbbd5ed6a68a8e630902dd83469ea6553554bfb67111f"
    "ad";
constexpr char kSnpSecretsThenCpuid[] =
    "9674080570feb3e400fbae0fc64b0fc8a42ced71747fe316052778e04f005a343ae83daee87cb29d1949f5a8fbd819"
    "df";
constexpr char kSnpZeroVmsaAtKvmGpa[] =
    "f4577da9b848673216afc3909e5ea7aa80150dda441526874cd2b0282894709b46484c13a07221aefbedfff6671992"
    "59";
constexpr char kSnpZeroVmsaAt803000[] =
    "dcc38e5afb33480847b33ea8de3da9608b61565c1177cd25645e2ad063bc6b586af6f76eb92b3d70e4b9f03d60fd72"
    "78";
constexpr char kSnpZeroPageContents[] =
    "c0e59a3e3ffbd3b5c75428fb36432facabc745944296ff515f737c4fef4efc64586809f7a16f56354a1eaecf2aa8d7"
    "74";
// measurement.md §3.1.
constexpr char kTdxZeroPageMeasured[] =
    "236f0efa607ff8843f1855d7ef80dc3dda8fb455787a186b8787212951eab0096e3193bb26f817c2b63c21f5e10f99"
    "38";
constexpr char kTdxPageAddOnly[] =
    "8f3e9a8aca6784eab874f7aa4dda5d49104a88047f1f86695ef2a88f5691a90e34aac48ce45ffa1f5a23c7d62980d5"
    "70";

std::string hexOf(const std::array<uint8_t, 48>& d) {
  return hexBytes(Bytes(reinterpret_cast<const std::byte*>(d.data()), d.size()));
}

// A kvm-snp plan whose measured pages are `ops`, with the one VMSA KVM requires.
Plan kvmSnpWith(std::vector<LaunchOp> ops, std::optional<SnpIdBlock> id = std::nullopt) {
  Plan p = testing::basePlan(BackendKind::kKvmSnp);
  p.ops.push_back(testing::mapAll(p.backend));
  for (LaunchOp& op : ops) {
    p.ops.push_back(std::move(op));
  }
  p.ops.push_back(
      testing::vmsaOp(0, kKvmSnpVmsaGpa, testing::vmsaPage(testing::sampleVmsaState())));
  Finalize fin;
  fin.snp_id = std::move(id);
  p.ops.push_back(fin);
  return p;
}

Plan mshvSnpWith(std::vector<LaunchOp> ops) {
  Plan p = testing::basePlan(BackendKind::kMshvSnp);
  p.ops.push_back(testing::mapAll(p.backend));
  for (LaunchOp& op : ops) {
    p.ops.push_back(std::move(op));
  }
  p.ops.push_back(Finalize{});
  return p;
}

TEST(SnpPsp, SinglePageVectorsThroughKvmSnp) {
  const struct {
    const char* name;
    std::vector<LaunchOp> ops;
    const char* digest;
  } kCases[] = {
      {"normal zero page at 0", {testing::zeroPages(0, 1, PageType::kNormal)}, kSnpNormalZeroAt0},
      {"zero at 0", {testing::zeroPages(0, 1, PageType::kZero)}, kSnpZeroAt0},
      {"unmeasured at 0x1000",
       {testing::zeroPages(0x1000, 1, PageType::kUnmeasured)},
       kSnpUnmeasuredAt1000},
      {"secrets then cpuid",
       {testing::zeroPages(0x1000, 1, PageType::kSecrets),
        testing::zeroPages(0x2000, 1, PageType::kCpuid)},
       kSnpSecretsThenCpuid},
  };
  for (const auto& c : kCases) {
    FakeDevice dev;
    SnpPsp psp(dev);
    auto backend = makeBackend(BackendKind::kKvmSnp, dev);
    Status s = launch(*backend, kvmSnpWith(c.ops));
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.error().describe();
    ASSERT_TRUE(psp.finished()) << c.name;
    // The page digests come first; KVM's VMSA is measured last, at LAUNCH_FINISH.
    ASSERT_EQ(psp.trace().size(), c.ops.size() + 1) << c.name;
    EXPECT_EQ(hexOf(psp.trace()[c.ops.size() - 1].digest_after), c.digest) << c.name;
    EXPECT_EQ(psp.trace().back().type, testing::kFwPageVmsa);
    EXPECT_EQ(psp.trace().back().gpa, kKvmSnpVmsaGpa);
  }
}

TEST(Simulate, OneCallLaunches) {
  Result<testing::Digest48> snp = testing::simulateSnpLaunch(
      mshvSnpWith({testing::vmsaOp(0, 0x803000, ByteVector(kPageSize))}));
  ASSERT_TRUE(snp.ok()) << snp.error().describe();
  EXPECT_EQ(hexOf(*snp), kSnpZeroVmsaAt803000);
  Result<std::array<uint8_t, 48>> tdx = testing::simulateTdxLaunch([] {
    Plan p = testing::basePlan(BackendKind::kKvmTdx);
    p.ops.push_back(testing::mapAll(p.backend));
    p.ops.push_back(testing::zeroPages(0, 1, PageType::kNormal));
    p.ops.push_back(Finalize{});
    return p;
  }());
  ASSERT_TRUE(tdx.ok()) << tdx.error().describe();
  EXPECT_EQ(hexOf(*tdx), kTdxZeroPageMeasured);
  EXPECT_EQ(testing::simulateSnpLaunch(testing::basePlan(BackendKind::kKvm)).error().code,
            Code::kUsage);
}

TEST(SnpPsp, NormalPageContentsIsTheHashOfThePage) {
  FakeDevice dev;
  SnpPsp psp(dev);
  ByteVector zero(4096);
  psp.measurePage(testing::kFwPageNormal, 0, zero.data());
  EXPECT_EQ(hexOf(psp.trace()[0].contents), kSnpZeroPageContents);
  EXPECT_EQ(hexOf(psp.digest()), kSnpNormalZeroAt0);
}

TEST(SnpPsp, ZeroVmsaVectors) {
  FakeDevice dev;
  SnpPsp psp(dev);
  ByteVector zero(4096);
  psp.measurePage(testing::kFwPageVmsa, kKvmSnpVmsaGpa, zero.data());
  EXPECT_EQ(hexOf(psp.digest()), kSnpZeroVmsaAtKvmGpa);
}

TEST(SnpPsp, MshvSnpMeasuresTheVmsaAtTheFilesGpa) {
  FakeDevice dev;
  SnpPsp psp(dev);
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpWith({testing::vmsaOp(0, 0x803000, ByteVector(kPageSize))}));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_EQ(psp.trace().size(), 1u);
  EXPECT_EQ(hexOf(psp.digest()), kSnpZeroVmsaAt803000);
}

TEST(SnpPsp, MshvSnpPageTypesTranslateBack) {
  FakeDevice dev;
  SnpPsp psp(dev);
  auto backend = makeBackend(BackendKind::kMshvSnp, dev);
  Status s = launch(*backend, mshvSnpWith({testing::zeroPages(0x1000, 1, PageType::kSecrets),
                                           testing::zeroPages(0x2000, 1, PageType::kCpuid),
                                           testing::vmsaOp(0, 0x803000, ByteVector(kPageSize))}));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  ASSERT_EQ(psp.trace().size(), 3u);
  EXPECT_EQ(hexOf(psp.trace()[1].digest_after), kSnpSecretsThenCpuid);
}

TEST(SnpPsp, KvmSynthesisesExactlyTheFilesVmsa) {
  // The invariant the kvm-snp refusals protect: the VMSA KVM builds from the registers the backend
  // set is byte for byte the VMSA in the plan, so measure's --host kvm digest holds.
  FakeDevice dev;
  SnpPsp psp(dev);
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Plan p = kvmSnpWith({testing::filledPages(0x100000, 1, 0x11)});
  ASSERT_TRUE(launch(*backend, p).ok());
  ASSERT_EQ(psp.kvmVmsas().size(), 1u);
  EXPECT_EQ(psp.kvmVmsas()[0], testing::vmsaPage(testing::sampleVmsaState()));
}

TEST(SnpPsp, MultiPageUpdatesMeasureAscendingPages) {
  FakeDevice dev_a, dev_b;
  SnpPsp one(dev_a), many(dev_b);
  auto a = makeBackend(BackendKind::kKvmSnp, dev_a);
  auto b = makeBackend(BackendKind::kKvmSnp, dev_b);
  ASSERT_TRUE(launch(*a, kvmSnpWith({testing::filledPages(0x10000, 3, 0x42)})).ok());
  ASSERT_TRUE(launch(*b, kvmSnpWith({testing::filledPages(0x10000, 1, 0x42),
                                     testing::filledPages(0x11000, 1, 0x42),
                                     testing::filledPages(0x12000, 1, 0x42)}))
                  .ok());
  EXPECT_EQ(one.digest(), many.digest());
  EXPECT_EQ(one.trace().size(), 4u);
}

TEST(SnpPsp, IdBlockIsCheckedAtFinish) {
  // First launch: learn the digest. Second: an ID block carrying it is accepted.
  std::array<uint8_t, 48> ld{};
  {
    FakeDevice dev;
    SnpPsp psp(dev);
    auto backend = makeBackend(BackendKind::kKvmSnp, dev);
    ASSERT_TRUE(launch(*backend, kvmSnpWith({testing::zeroPages(0, 1, PageType::kNormal)})).ok());
    ld = psp.digest();
  }
  SnpIdBlock id;
  std::memcpy(id.id_block.data(), ld.data(), 48);
  uint32_t version = 1;
  uint64_t policy = 0x30000;
  std::memcpy(id.id_block.data() + 0x50, &version, 4);
  std::memcpy(id.id_block.data() + 0x58, &policy, 8);
  testing::signIdBlock(id, /*author=*/true);
  {
    FakeDevice dev;
    SnpPsp psp(dev);
    auto backend = makeBackend(BackendKind::kKvmSnp, dev);
    Status s = launch(*backend, kvmSnpWith({testing::zeroPages(0, 1, PageType::kNormal)}, id));
    ASSERT_TRUE(s.ok()) << s.error().describe();
    EXPECT_FALSE(psp.finishError().has_value());
  }
  // A different page: the firmware refuses with BAD_MEASUREMENT.
  FakeDevice dev;
  SnpPsp psp(dev);
  auto backend = makeBackend(BackendKind::kKvmSnp, dev);
  Status s = launch(*backend, kvmSnpWith({testing::zeroPages(0, 1, PageType::kZero)}, id));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("KVM_SEV_SNP_LAUNCH_FINISH failed"), std::string::npos);
  EXPECT_NE(s.error().message.find("firmware error 0xb"), std::string::npos) << s.error().message;
  ASSERT_TRUE(psp.finishError().has_value());
  EXPECT_NE(psp.finishError()->find("differs from the measured"), std::string::npos);
  EXPECT_FALSE(psp.finished());
}

TEST(SnpPsp, IdBlockPolicyAndVersionAreChecked) {
  FakeDevice dev0;
  SnpPsp learn(dev0);
  ASSERT_TRUE(launch(*makeBackend(BackendKind::kKvmSnp, dev0), kvmSnpWith({})).ok());
  for (auto [version, policy, needle] :
       {std::tuple<uint32_t, uint64_t, const char*>{2, 0x30000, "version 2"},
        {1, 0xB0000, "policy 0xb0000 differs"}}) {
    SnpIdBlock id;
    std::memcpy(id.id_block.data(), learn.digest().data(), 48);
    std::memcpy(id.id_block.data() + 0x50, &version, 4);
    std::memcpy(id.id_block.data() + 0x58, &policy, 8);
    testing::signIdBlock(id, false);
    FakeDevice dev;
    SnpPsp psp(dev);
    Status s = launch(*makeBackend(BackendKind::kKvmSnp, dev), kvmSnpWith({}, id));
    ASSERT_FALSE(s.ok()) << needle;
    ASSERT_TRUE(psp.finishError().has_value());
    EXPECT_NE(psp.finishError()->find(needle), std::string::npos) << *psp.finishError();
  }
}

SnpIdBlock signedBlockFor(const std::array<uint8_t, 48>& ld) {
  SnpIdBlock id;
  std::memcpy(id.id_block.data(), ld.data(), 48);
  uint32_t version = 1;
  uint64_t policy = 0x30000;
  std::memcpy(id.id_block.data() + 0x50, &version, 4);
  std::memcpy(id.id_block.data() + 0x58, &policy, 8);
  testing::signIdBlock(id, true);
  return id;
}

TEST(SnpPsp, IdBlockSignaturesAreVerified) {
  FakeDevice dev0;
  SnpPsp learn(dev0);
  ASSERT_TRUE(launch(*makeBackend(BackendKind::kKvmSnp, dev0), kvmSnpWith({})).ok());
  const struct {
    const char* name;
    size_t offset;  // byte of id_auth to flip
    const char* needle;
  } kCases[] = {{"id block signature", 0x40, "id block signature does not verify"},
                {"id key", 0x244, "id block"},
                {"author signature", 0x680, "id key author signature does not verify"},
                {"author key curve", 0x880, "id key author public key curve"}};
  for (const auto& c : kCases) {
    SnpIdBlock id = signedBlockFor(learn.digest());
    id.id_auth[c.offset] ^= 0x01;
    FakeDevice dev;
    SnpPsp psp(dev);
    Status s = launch(*makeBackend(BackendKind::kKvmSnp, dev), kvmSnpWith({}, id));
    ASSERT_FALSE(s.ok()) << c.name;
    ASSERT_TRUE(psp.finishError().has_value()) << c.name;
    EXPECT_NE(psp.finishError()->find(c.needle), std::string::npos)
        << c.name << ": " << *psp.finishError();
  }
  // Untouched, it passes; without author_key_enabled the author fields are not checked.
  SnpIdBlock id = signedBlockFor(learn.digest());
  id.id_auth[0x680] ^= 0x01;
  id.author_key_enabled = false;
  FakeDevice dev;
  SnpPsp psp(dev);
  Status s = launch(*makeBackend(BackendKind::kKvmSnp, dev), kvmSnpWith({}, id));
  EXPECT_TRUE(s.ok()) << s.error().describe();
}

TEST(SnpPsp, MshvSnpChecksTheIdBlockAtCompleteImport) {
  std::array<uint8_t, 48> ld{};
  {
    FakeDevice dev;
    SnpPsp psp(dev);
    ASSERT_TRUE(launch(*makeBackend(BackendKind::kMshvSnp, dev),
                       mshvSnpWith({testing::vmsaOp(0, 0x803000, ByteVector(kPageSize))}))
                    .ok());
    ld = psp.digest();
  }
  for (bool good : {true, false}) {
    SnpIdBlock id = signedBlockFor(ld);
    if (!good) {
      id.id_block[0] ^= 1;
      testing::signIdBlock(id, true);  // validly signed, wrong digest
    }
    Plan p = mshvSnpWith({testing::vmsaOp(0, 0x803000, ByteVector(kPageSize))});
    std::get<Finalize>(p.ops.back()).snp_id = id;
    FakeDevice dev;
    SnpPsp psp(dev);
    Status s = launch(*makeBackend(BackendKind::kMshvSnp, dev), p);
    EXPECT_EQ(s.ok(), good) << (s.ok() ? "" : s.error().describe());
    EXPECT_EQ(psp.finished(), good);
  }
}

Plan tdxWith(std::vector<LaunchOp> ops) {
  Plan p = testing::basePlan(BackendKind::kKvmTdx);
  p.ops.push_back(testing::mapAll(p.backend));
  for (LaunchOp& op : ops) {
    p.ops.push_back(std::move(op));
  }
  p.ops.push_back(Finalize{});
  return p;
}

TEST(TdxModule, SinglePageVectorsThroughKvmTdx) {
  const struct {
    const char* name;
    PageType type;
    const char* mrtd;
  } kCases[] = {{"measured zero page at 0", PageType::kNormal, kTdxZeroPageMeasured},
                {"page.add only at 0", PageType::kUnmeasured, kTdxPageAddOnly}};
  for (const auto& c : kCases) {
    FakeDevice dev;
    TdxModule tdx(dev);
    auto backend = makeBackend(BackendKind::kKvmTdx, dev);
    Status s = launch(*backend, tdxWith({testing::zeroPages(0, 1, c.type)}));
    ASSERT_TRUE(s.ok()) << c.name << ": " << s.error().describe();
    ASSERT_TRUE(tdx.mrtd().has_value()) << c.name;
    EXPECT_EQ(hexOf(*tdx.mrtd()), c.mrtd) << c.name;
  }
}

TEST(TdxModule, ParameterAreasAreAddedNotExtended) {
  FakeDevice dev;
  TdxModule tdx(dev);
  auto backend = makeBackend(BackendKind::kKvmTdx, dev);
  Status s = launch(
      *backend, tdxWith({testing::filledPages(0x100000, 2, 0x99),
                         FillParameter{{ParameterKind::kVpCount}, 0, 3 * kPageSize, {}}}));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  EXPECT_EQ(tdx.pagesAdded(), 5u);
  EXPECT_EQ(tdx.chunksExtended(), 32u);
  // The same stream fed by hand gives the same MRTD.
  FakeDevice unused;
  TdxModule manual(unused);
  manual.start();
  ByteVector page(kPageSize, std::byte{0x99});
  for (uint64_t gpa : {0x100000ull, 0x101000ull}) {
    manual.pageAdd(gpa);
    for (int c = 0; c < 16; ++c) {
      manual.mrExtend(gpa + 256 * c, page.data() + 256 * c);
    }
  }
  for (uint64_t gpa : {0x0ull, 0x1000ull, 0x2000ull}) {
    manual.pageAdd(gpa);
  }
  manual.finalize();
  EXPECT_EQ(*manual.mrtd(), *tdx.mrtd());
}

}  // namespace
}  // namespace igvmkit::loader
