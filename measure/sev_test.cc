#include "measure/sev.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/testing/matchers.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

// UNCONFIRMED algorithm (measurement.md §1.7); expected values derived independently by
// measure/testdata/derive_vectors.py (Python hashlib, run once): data "00 05", a page of 0x01,
// "abc", then for SEV-ES a VMSA (cr0 0x31, rip 0xfff0, sev_features 1) and a zero VMSA.
std::vector<std::byte> testVmsa() {
  std::vector<std::byte> vmsa(4096);
  uint64_t cr0 = 0x31, rip = 0xfff0, features = 1;
  std::memcpy(vmsa.data() + 0x158, &cr0, 8);
  std::memcpy(vmsa.data() + 0x178, &rip, 8);
  std::memcpy(vmsa.data() + 0x3B0, &features, 8);
  return vmsa;
}

void addData(SevDigest& d) {
  const std::byte two[] = {std::byte{0x00}, std::byte{0x05}};
  std::vector<std::byte> page(4096, std::byte{0x01});
  ASSERT_TRUE(d.addData(Bytes(two)).ok());
  ASSERT_TRUE(d.addData({}).ok());  // a page without data adds nothing
  ASSERT_TRUE(d.addData(Bytes(page)).ok());
  ASSERT_TRUE(d.addData(toBytes("abc")).ok());
}

TEST(SevDigest, Sev) {
  SevDigest d(SevMode::kSev);
  addData(d);
  Result<Sha256Digest> r = d.digest();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hexDigest(*r), "db7ebc80aebb3bc4c6787b154b123e9f12c627a9dd463628a2588bc2d1e69be3");
  EXPECT_EQ(d.bytesMeasured(), 4096u + 5u);
  Status s = d.addVmsa(Bytes(testVmsa()));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s, HasRule("sev.vmsa_on_sev"));
}

TEST(SevDigest, SevEsVmsasComeLast) {
  SevDigest d(SevMode::kSevEs);
  std::vector<std::byte> vmsa = testVmsa();
  std::vector<std::byte> zero_vmsa(4096);
  ASSERT_TRUE(d.addVmsa(Bytes(vmsa)).ok());  // before the data, still hashed after it
  addData(d);
  ASSERT_TRUE(d.addVmsa(Bytes(zero_vmsa)).ok());
  Result<Sha256Digest> r = d.digest();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hexDigest(*r), "477a1cf1a1b7ac20ed135e8fffba8159bff6e0156c5d370130597ae0e612680e");
}

TEST(SevDigest, RejectsBadInput) {
  SevDigest d(SevMode::kSevEs);
  std::vector<std::byte> big(4097);
  EXPECT_THAT(d.addData(Bytes(big)), HasRule("page.too_large"));
  EXPECT_THAT(d.addVmsa(Bytes(big)), HasRule("vmsa.size"));
}

}  // namespace
}  // namespace igvmkit::measure
