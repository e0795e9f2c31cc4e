#include "sign/image.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/file.h"
#include "base/testing/matchers.h"
#include "igvm/writer.h"
#include "measure/measure.h"

using ::igvmkit::testing::HasRule;

namespace igvmkit::sign {
namespace {

constexpr const char* kIdKey = "measure/testdata/id_key.pem";
constexpr const char* kAuthorKey = "measure/testdata/author_key.pem";

ReadKeyFile reader() {
  return [](const std::string& path) { return readFile(path); };
}

// SNP (mask 1, policy 0x30000) + native (mask 2): two pages and a VMSA where KVM measures it.
ByteVector snpImage(uint8_t fill = 7) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  m.add(igvm::platformEntry(igvm::PlatformType::kNative, 0x2));
  igvm::IGVM_VHS_GUEST_POLICY p{};
  p.policy = 0x30000;
  p.compatibility_mask = 0x1;
  m.add(igvm::makeEntry(igvm::kVhtGuestPolicy, p));
  m.add(igvm::pageDataEntry(0x100000, 0x3, igvm::Blob(ByteVector(4096, std::byte{fill}))));
  m.add(igvm::pageDataEntry(0x101000, 0x3, igvm::Blob()));
  ByteVector vmsa(4096, std::byte{0});
  vmsa[0x3B0] = std::byte{1};  // sev_features: SNP active
  m.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 0, igvm::Blob(std::move(vmsa))));
  Result<ByteVector> bytes = igvm::write(m, {.version = igvm::kFormatVersion1});
  EXPECT_TRUE(bytes.ok());
  return *bytes;
}

struct Keys {
  std::unique_ptr<Signer> id, author;
};
Keys pemKeys() {
  Keys k;
  k.id = std::move(openSigner(kIdKey, {}, reader())).value();
  k.author = std::move(openSigner(kAuthorKey, {}, reader())).value();
  return k;
}

TEST(IdBlockPipeline, SignsTheFilesOwnDigestAndCarriesTheIdentity) {
  ByteVector image = snpImage();
  Result<igvm::File> file = igvm::File::parse(image);
  ASSERT_TRUE(file.ok());
  IdBlockRequest req;
  req.vcpus = 2;
  req.family_id[0] = std::byte{0xfa};
  req.image_id[15] = std::byte{0x1d};
  req.guest_svn = 5;
  Result<UnsignedIdBlock> u = prepareIdBlock(*file, req);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->mask, 1u);
  measure::MeasureOptions two;
  two.vcpus = 2;
  Result<measure::Measurement> m = measure::measure(*file, two);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::memcmp(u->block.ld, m->digest.data(), 48), 0);
  EXPECT_EQ(u->block.policy, 0x30000u);
  EXPECT_EQ(u->block.guest_svn, 5u);

  Keys k = pemKeys();
  Result<measure::SignedIdBlock> block = signIdBlock(u->block, *k.id, k.author.get());
  ASSERT_TRUE(block.ok()) << block.error().message;
  Result<ByteVector> out = withIdBlock(*file, *block, u->mask, std::nullopt);
  ASSERT_TRUE(out.ok()) << out.error().message;
  Result<igvm::File> signed_file = igvm::File::parse(*out);
  ASSERT_TRUE(signed_file.ok()) << signed_file.error().message;
  Result<std::vector<FileIdBlock>> blocks = idBlocksOf(*signed_file);
  ASSERT_TRUE(blocks.ok());
  ASSERT_EQ(blocks->size(), 1u);
  EXPECT_TRUE(measure::verifyIdBlock((*blocks)[0].block).ok());
  EXPECT_EQ(std::memcmp(&(*blocks)[0].block.id_block, &u->block, sizeof(u->block)), 0);

  // The reference values of the signed file: only the measurement the block was signed for
  // (kvm, 2 vCPUs) carries the identity.
  std::vector<measure::Measurement> all;
  for (uint32_t n = 1; n <= 2; ++n) {
    measure::MeasureOptions o;
    o.vcpus = n;
    all.push_back(*measure::measure(*signed_file, o));
  }
  measure::MeasureOptions mshv;
  mshv.host = measure::HostModel::kMshv;
  all.push_back(*measure::measure(*signed_file, mshv));
  measure::ReferenceValues ref = measure::toReference(all);
  ASSERT_TRUE(addIdentity(*signed_file, ref).ok());
  EXPECT_FALSE(ref.measurements[0].id_block.has_value());
  ASSERT_TRUE(ref.measurements[1].id_block.has_value());
  EXPECT_FALSE(ref.measurements[2].id_block.has_value());
  const auto& id = *ref.measurements[1].id_block;
  Result<measure::Sha384Digest> id_digest = measure::keyDigest(k.id->publicKey());
  Result<measure::Sha384Digest> author_digest = measure::keyDigest(k.author->publicKey());
  EXPECT_EQ(hexBytes(id.id_key_digest), hexBytes(Bytes(id_digest->data(), 48)));
  ASSERT_TRUE(id.author_key_digest.has_value());
  EXPECT_EQ(hexBytes(*id.author_key_digest), hexBytes(Bytes(author_digest->data(), 48)));
  EXPECT_EQ(hexBytes(id.family_id), "fa000000000000000000000000000000");
  EXPECT_EQ(hexBytes(id.image_id), "0000000000000000000000000000001d");
  EXPECT_EQ(id.guest_svn, 5u);
  EXPECT_EQ(id.guest_policy, 0x30000u);
  // The signed file measures the same (the ID block is not measured).
  EXPECT_EQ(all[1].digest, m->digest);
}

TEST(IdBlockPipeline, ImportedSignaturesGiveByteIdenticalFiles) {
  ByteVector image = snpImage();
  igvm::File file = *igvm::File::parse(image);
  UnsignedIdBlock u = *prepareIdBlock(file, {});
  Keys k = pemKeys();
  // Signatures made "elsewhere" once, imported twice.
  measure::SNP_ECDSA_SIGNATURE id_sig = *k.id->sign(measure::bytesToSign(u.block));
  measure::SNP_ECDSA_SIGNATURE author_sig =
      *k.author->sign(measure::bytesToSign(k.id->publicKey()));
  auto once = [&] {
    auto id = importedSignature(k.id->publicKey(), *measure::signatureToDer(id_sig), "id.der");
    auto author = importedSignature(k.author->publicKey(), *measure::signatureToDer(author_sig),
                                    "author.der");
    Result<measure::SignedIdBlock> b = signIdBlock(u.block, *id, author.get());
    EXPECT_TRUE(b.ok());
    return *withIdBlock(file, *b, u.mask, std::nullopt);
  };
  EXPECT_EQ(once(), once());
  // An imported signature over other bytes is refused.
  measure::SNP_ID_BLOCK other = u.block;
  other.guest_svn = 1;
  auto id = importedSignature(k.id->publicKey(), *measure::signatureToDer(id_sig), "id.der");
  EXPECT_THAT(signIdBlock(other, *id, nullptr), HasRule("id_block.signature_invalid"));
  // The author signature must cover the ID key actually used.
  auto author = importedSignature(k.author->publicKey(), *measure::signatureToDer(id_sig), "a");
  EXPECT_THAT(signIdBlock(u.block, *id, author.get()), HasRule("id_block.signature_invalid"));
}

TEST(IdBlockPipeline, ReusesAnOldSignatureOnlyWhenEverySignedByteIsTheSame) {
  ByteVector image = snpImage();
  igvm::File file = *igvm::File::parse(image);
  UnsignedIdBlock u = *prepareIdBlock(file, {});
  Keys k = pemKeys();
  ByteVector old_bytes = *withIdBlock(file, *signIdBlock(u.block, *k.id, k.author.get()), u.mask,
                                      std::nullopt);
  igvm::File old = *igvm::File::parse(old_bytes);
  std::optional<ReusedSignatures> reused =
      reuseSignatures(old, u.mask, u.block, k.id->publicKey(), &k.author->publicKey());
  ASSERT_TRUE(reused.has_value());
  Result<measure::SignedIdBlock> again = signIdBlock(u.block, *reused->id, reused->author.get());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*withIdBlock(file, *again, u.mask, std::nullopt), old_bytes);

  // Any change to what is signed, or other keys, means signing anew.
  measure::SNP_ID_BLOCK svn = u.block;
  svn.guest_svn = 2;
  EXPECT_FALSE(reuseSignatures(old, u.mask, svn, k.id->publicKey(), &k.author->publicKey()));
  ByteVector changed = snpImage(8);
  UnsignedIdBlock u2 = *prepareIdBlock(*igvm::File::parse(changed), {});
  EXPECT_FALSE(reuseSignatures(old, u.mask, u2.block, k.id->publicKey(), &k.author->publicKey()));
  EXPECT_FALSE(reuseSignatures(old, u.mask, u.block, k.author->publicKey(), &k.author->publicKey()));
  EXPECT_FALSE(reuseSignatures(old, u.mask, u.block, k.id->publicKey(), nullptr));
  EXPECT_FALSE(reuseSignatures(file, u.mask, u.block, k.id->publicKey(), nullptr));  // unsigned
}

TEST(IdBlockPipeline, PolicyRequestSetsTheGuestPolicyToo) {
  ByteVector image = snpImage();
  igvm::File file = *igvm::File::parse(image);
  IdBlockRequest req;
  req.policy = 0x70000;
  UnsignedIdBlock u = *prepareIdBlock(file, req);
  EXPECT_EQ(u.block.policy, 0x70000u);
  Keys k = pemKeys();
  ByteVector out = *withIdBlock(file, *signIdBlock(u.block, *k.id, nullptr), u.mask, 0x70000);
  igvm::File signed_file = *igvm::File::parse(out);
  int policies = 0;
  for (const igvm::Header& h : signed_file.initializationHeaders()) {
    if (const auto* p = h.get<igvm::IGVM_VHS_GUEST_POLICY>()) {
      ++policies;
      EXPECT_EQ(p->policy, 0x70000u);
    }
  }
  EXPECT_EQ(policies, 1);
  // The block QEMU rebuilds from the file (policy from GUEST_POLICY) still verifies.
  EXPECT_TRUE(measure::verifyIdBlock((*idBlocksOf(signed_file))[0].block).ok());
}

TEST(IdBlockPipeline, FileWithoutPolicyNeedsOne) {
  igvm::Model m;
  m.add(igvm::platformEntry(igvm::PlatformType::kSevSnp, 0x1));
  ByteVector vmsa(4096, std::byte{0});
  vmsa[0x3B0] = std::byte{1};
  m.add(igvm::vpContextEntry(0xFFFFFFFFF000, 0x1, 0, igvm::Blob(std::move(vmsa))));
  ByteVector bytes = *igvm::write(m, {.version = igvm::kFormatVersion1});
  igvm::File file = *igvm::File::parse(bytes);
  EXPECT_THAT(prepareIdBlock(file, {}), HasRule("sign.no_policy"));
  IdBlockRequest req;
  req.policy = 0x30000;
  EXPECT_TRUE(prepareIdBlock(file, req).ok());
}

}  // namespace
}  // namespace igvmkit::sign
