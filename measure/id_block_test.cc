#include "measure/id_block.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing/matchers.h"

namespace igvmkit::measure {
namespace {

using ::igvmkit::testing::HasRule;

// Test keys generated for igvmkit with `openssl ecparam -name secp384r1 -genkey` (testdata/).
constexpr const char* kIdKey = "measure/testdata/id_key.pem";
constexpr const char* kIdPub = "measure/testdata/id_key.pub.pem";
constexpr const char* kAuthorKey = "measure/testdata/author_key.pem";
constexpr const char* kP256Key = "measure/testdata/p256_key.pem";

// SHA-384 of each key's 0x404-byte SNP public-key structure, derived independently by
// testdata/derive_vectors.py from the point the openssl CLI prints (Python, run once).
constexpr const char* kIdKeyDigest =
    "d457aba8795a366a119708f6b94ccc0dab3a86d7521b5152a9c904f79790567646854b0da069b48ebaf2464f0b0362"
    "91";
constexpr const char* kAuthorKeyDigest =
    "47dfd58a374b18727cc3c43b0d9498b78b7de78236ba6248814977488cb9395bd825860344abf7645c5c8c27f362f0"
    "58";

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const std::string& path, Bytes bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::string tmp(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// The two steps with local PEM keys (sign/ is the pipeline; this test stays inside measure).
Result<SignedIdBlock> signIdBlock(const SNP_ID_BLOCK& block, const std::string& id_pem,
                                  std::optional<std::string_view> author_pem) {
  ByteVector msg = bytesToSign(block);
  IGVMKIT_ASSIGN_OR_RETURN(ByteVector id_der, signDer(id_pem, Bytes(msg)));
  IGVMKIT_ASSIGN_OR_RETURN(ImportedSignature id, importSignature(Bytes(msg), Bytes(id_der), id_pem));
  std::optional<ImportedSignature> author;
  if (author_pem) {
    ByteVector key_msg = bytesToSign(id.public_key);
    IGVMKIT_ASSIGN_OR_RETURN(ByteVector der, signDer(*author_pem, Bytes(key_msg)));
    IGVMKIT_ASSIGN_OR_RETURN(author, importSignature(Bytes(key_msg), Bytes(der), *author_pem));
  }
  return assembleIdBlock(block, id, author);
}

// Runs a shell command; returns its exit status and stdout.
int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) {
    return -1;
  }
  char buf[4096];
  std::string text;
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    text.append(buf, n);
  }
  int rc = pclose(p);
  if (out != nullptr) {
    *out = text;
  }
  return rc;
}

bool haveOpensslCli() { return run("openssl version") == 0; }

// "Verified OK" from the openssl CLI: ECDSA P-384/SHA-384 `der` over `message` under `pub_pem`.
bool cliVerifies(Bytes message, Bytes der, const std::string& pub_pem_path) {
  writeFile(tmp("msg.bin"), message);
  writeFile(tmp("sig.der"), der);
  return run("openssl dgst -sha384 -verify " + pub_pem_path + " -signature " + tmp("sig.der") +
             " " + tmp("msg.bin")) == 0;
}

// Big-endian bytes -> the expected 72-byte little-endian, zero-padded field.
std::vector<std::byte> leField(const std::vector<uint8_t>& be) {
  std::vector<std::byte> out(72);
  for (size_t i = 0; i < be.size() && i < 48; ++i) {
    out[i] = std::byte(be[be.size() - 1 - i]);
  }
  return out;
}

std::vector<uint8_t> unhex(const std::string& text) {
  std::vector<uint8_t> out;
  std::string digits;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      digits += c;
    }
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
  }
  return out;
}

SNP_ID_BLOCK testBlock() {
  IdBlockParams p;
  for (size_t i = 0; i < p.ld.size(); ++i) {
    p.ld[i] = std::byte(i);
  }
  p.family_id[0] = std::byte{0x08};
  p.image_id[15] = std::byte{0x42};
  p.guest_svn = 7;
  p.policy = 0x30000;
  return makeIdBlock(p);
}

TEST(IdBlock, LayoutOfTheSignedBytes) {
  ByteVector b = bytesToSign(testBlock());
  ASSERT_EQ(b.size(), 96u);
  EXPECT_EQ(b[0x2F], std::byte{47});    // ld
  EXPECT_EQ(b[0x30], std::byte{0x08});  // family_id
  EXPECT_EQ(b[0x4F], std::byte{0x42});  // image_id
  EXPECT_EQ(b[0x50], std::byte{1});     // version 1
  EXPECT_EQ(b[0x54], std::byte{7});     // guest_svn
  EXPECT_EQ(b[0x5A], std::byte{0x03});  // policy 0x30000
}

TEST(IdBlock, KeyDigestsAsTheReportShowsThem) {
  Result<SNP_ECDSA_PUBLIC_KEY> id = publicKeyFromPem(readText(kIdKey));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->curve, 2u);
  EXPECT_EQ(hexDigest(*keyDigest(*id)), kIdKeyDigest);
  Result<SNP_ECDSA_PUBLIC_KEY> author = publicKeyFromPem(readText(kAuthorKey));
  ASSERT_TRUE(author.ok());
  EXPECT_EQ(hexDigest(*keyDigest(*author)), kAuthorKeyDigest);
  // The public PEM gives the same structure as the private one.
  Result<SNP_ECDSA_PUBLIC_KEY> pub = publicKeyFromPem(readText(kIdPub));
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(std::memcmp(&*pub, &*id, sizeof(SNP_ECDSA_PUBLIC_KEY)), 0);
}

TEST(IdBlock, PublicKeyIsLittleEndianPerOpensslCli) {
  if (!haveOpensslCli()) {
    GTEST_SKIP() << "the openssl command line tool is not installed";
  }
  ASSERT_EQ(
      run(std::string("openssl ec -in ") + kIdKey + " -pubout -outform DER -out " + tmp("pub.der")),
      0);
  std::string text = readText(tmp("pub.der"));
  std::vector<uint8_t> der(text.begin(), text.end());
  ASSERT_GE(der.size(), 97u);
  std::vector<uint8_t> x(der.end() - 96, der.end() - 48), y(der.end() - 48, der.end());
  ASSERT_EQ(der[der.size() - 97], 0x04);
  Result<SNP_ECDSA_PUBLIC_KEY> key = publicKeyFromPem(readText(kIdKey));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(std::memcmp(key->qx, leField(x).data(), 72), 0);
  EXPECT_EQ(std::memcmp(key->qy, leField(y).data(), 72), 0);
  EXPECT_TRUE(allZero(Bytes(key->reserved, sizeof(key->reserved))));
}

TEST(IdBlock, RejectsKeysThatAreNotP384) {
  Result<SNP_ECDSA_PUBLIC_KEY> p256 = publicKeyFromPem(readText(kP256Key));
  ASSERT_FALSE(p256.ok());
  EXPECT_THAT(p256, HasRule("id_block.key_type"));
  EXPECT_EQ(p256.error().message, "the key is not an ecdsa p-384 key");
  EXPECT_THAT(publicKeyFromPem("not a key"), HasRule("id_block.key_pem"));
  EXPECT_THAT(signDer(readText(kIdPub), toBytes("x")), HasRule("id_block.key_pem"));
  EXPECT_THAT(signDer(readText(kP256Key), toBytes("x")), HasRule("id_block.key_type"));
}

TEST(IdBlock, OurSignatureVerifiesWithOpensslCli) {
  if (!haveOpensslCli()) {
    GTEST_SKIP() << "the openssl command line tool is not installed";
  }
  ByteVector msg = bytesToSign(testBlock());
  Result<ByteVector> der = signDer(readText(kIdKey), Bytes(msg));
  ASSERT_TRUE(der.ok()) << der.error().message;
  EXPECT_TRUE(cliVerifies(Bytes(msg), Bytes(*der), kIdPub));
  // Through the SNP little-endian form and back to DER, it still verifies.
  Result<ImportedSignature> imported = importSignature(Bytes(msg), Bytes(*der), readText(kIdPub));
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  Result<ByteVector> again = signatureToDer(imported->signature);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(cliVerifies(Bytes(msg), Bytes(*again), kIdPub));
  // A changed message does not.
  msg[0] ^= std::byte{1};
  EXPECT_FALSE(cliVerifies(Bytes(msg), Bytes(*der), kIdPub));
}

TEST(IdBlock, ImportsAnOpensslCliSignatureAsLittleEndianRS) {
  if (!haveOpensslCli()) {
    GTEST_SKIP() << "the openssl command line tool is not installed";
  }
  ByteVector msg = bytesToSign(testBlock());
  writeFile(tmp("cli_msg.bin"), Bytes(msg));
  ASSERT_EQ(run(std::string("openssl dgst -sha384 -sign ") + kIdKey + " -out " +
                tmp("cli_sig.der") + " " + tmp("cli_msg.bin")),
            0);
  std::string der_text = readText(tmp("cli_sig.der"));
  Bytes der = toBytes(der_text);
  Result<ImportedSignature> imported = importSignature(Bytes(msg), der, readText(kIdPub));
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  // r and s as `openssl asn1parse` prints them (big endian), reversed and zero-padded.
  std::string parsed;
  ASSERT_EQ(run("openssl asn1parse -inform DER -in " + tmp("cli_sig.der"), &parsed), 0);
  std::vector<std::vector<uint8_t>> ints;
  std::istringstream lines(parsed);
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find("INTEGER");
    if (at != std::string::npos) {
      ints.push_back(unhex(line.substr(line.find(':', at) + 1)));
    }
  }
  ASSERT_EQ(ints.size(), 2u);
  EXPECT_EQ(std::memcmp(imported->signature.r, leField(ints[0]).data(), 72), 0);
  EXPECT_EQ(std::memcmp(imported->signature.s, leField(ints[1]).data(), 72), 0);
  EXPECT_TRUE(allZero(Bytes(imported->signature.reserved, sizeof(imported->signature.reserved))));
  EXPECT_TRUE(verifySnpSignature(Bytes(msg), imported->signature, imported->public_key).ok());
}

TEST(IdBlock, ImportRefusesSignaturesThatDoNotVerify) {
  ByteVector msg = bytesToSign(testBlock());
  Result<ByteVector> der = signDer(readText(kIdKey), Bytes(msg));
  ASSERT_TRUE(der.ok());
  ByteVector other = msg;
  other[5] ^= std::byte{0x80};
  Result<ImportedSignature> bad = importSignature(Bytes(other), Bytes(*der), readText(kIdPub));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kVerifyFailed);
  EXPECT_THAT(bad, HasRule("id_block.signature_invalid"));
  // Under the wrong key.
  bad = importSignature(Bytes(msg), Bytes(*der), readText(kAuthorKey));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad, HasRule("id_block.signature_invalid"));
  // Not DER, or DER with trailing bytes.
  EXPECT_THAT(importSignature(Bytes(msg), toBytes("garbage"), readText(kIdPub)),
              HasRule("id_block.signature_der"));
  ByteVector trailing = *der;
  trailing.push_back(std::byte{0});
  EXPECT_THAT(importSignature(Bytes(msg), Bytes(trailing), readText(kIdPub)),
              HasRule("id_block.signature_der"));
  EXPECT_THAT(importSignature(Bytes(msg), {}, readText(kIdPub)),
              HasRule("id_block.signature_der"));
}

TEST(IdBlock, ImportsRawRsSignaturesAsPkcs11GivesThem) {
  ByteVector msg = bytesToSign(testBlock());
  Result<ByteVector> der = signDer(readText(kIdKey), Bytes(msg));
  ASSERT_TRUE(der.ok());
  Result<SNP_ECDSA_SIGNATURE> from_der = parseSignature(Bytes(*der));
  ASSERT_TRUE(from_der.ok());
  // r || s big endian: each SNP field reversed.
  ByteVector raw(96);
  for (size_t i = 0; i < 48; ++i) {
    raw[i] = from_der->r[47 - i];
    raw[48 + i] = from_der->s[47 - i];
  }
  Result<ImportedSignature> imported = importSignature(Bytes(msg), Bytes(raw), readText(kIdPub));
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(std::memcmp(&imported->signature, &*from_der, sizeof(SNP_ECDSA_SIGNATURE)), 0);
  // One byte short or long is neither form.
  EXPECT_THAT(parseSignature(Bytes(raw).first(95)), HasRule("id_block.signature_der"));
  raw.push_back(std::byte{0});
  EXPECT_THAT(parseSignature(Bytes(raw)), HasRule("id_block.signature_der"));
}

TEST(IdBlock, EncryptedPemIsRefusedWithoutAPrompt) {
  if (!haveOpensslCli()) {
    GTEST_SKIP() << "the openssl command line tool is not installed";
  }
  const std::string enc = tmp("encrypted.pem");
  ASSERT_EQ(run(std::string("openssl pkey -in ") + kIdKey + " -aes256 -passout pass:secret -out " +
                enc),
            0);
  ASSERT_NE(readText(enc).find("ENCRYPTED"), std::string::npos);
  Result<ByteVector> der = signDer(readText(enc), toBytes("x"));
  ASSERT_FALSE(der.ok());
  EXPECT_THAT(der, HasRule("id_block.key_encrypted"));
  EXPECT_NE(der.error().message.find("never asks for a pass phrase"), std::string::npos);
  EXPECT_THAT(publicKeyFromPem(readText(enc)), HasRule("id_block.key_encrypted"));
}

TEST(IdBlock, TwoStepSigningWithAuthorKey) {
  if (!haveOpensslCli()) {
    GTEST_SKIP() << "the openssl command line tool is not installed";
  }
  SNP_ID_BLOCK block = testBlock();
  // Step 1: what to sign. Step 2: import what an external signer produced (here the CLI).
  ByteVector msg = bytesToSign(block);
  writeFile(tmp("step_msg.bin"), Bytes(msg));
  ASSERT_EQ(run(std::string("openssl dgst -sha384 -sign ") + kIdKey + " -out " +
                tmp("step_sig.der") + " " + tmp("step_msg.bin")),
            0);
  std::string id_der = readText(tmp("step_sig.der"));
  Result<ImportedSignature> id = importSignature(Bytes(msg), toBytes(id_der), readText(kIdPub));
  ASSERT_TRUE(id.ok()) << id.error().message;

  ByteVector key_msg = bytesToSign(id->public_key);
  ASSERT_EQ(key_msg.size(), 0x404u);
  writeFile(tmp("key_msg.bin"), Bytes(key_msg));
  ASSERT_EQ(run(std::string("openssl dgst -sha384 -sign ") + kAuthorKey + " -out " +
                tmp("key_sig.der") + " " + tmp("key_msg.bin")),
            0);
  std::string author_der = readText(tmp("key_sig.der"));
  Result<ImportedSignature> author =
      importSignature(Bytes(key_msg), toBytes(author_der), readText(kAuthorKey));
  ASSERT_TRUE(author.ok()) << author.error().message;

  Result<SignedIdBlock> signed_block = assembleIdBlock(block, *id, *author);
  ASSERT_TRUE(signed_block.ok()) << signed_block.error().message;
  EXPECT_TRUE(verifyIdBlock(*signed_block).ok());
  const SNP_ID_AUTH_INFO& auth = signed_block->auth_info;
  EXPECT_EQ(auth.id_key_algo, 1u);
  EXPECT_EQ(auth.auth_key_algo, 1u);
  EXPECT_EQ(hexDigest(*keyDigest(auth.id_key)), kIdKeyDigest);
  EXPECT_EQ(hexDigest(*keyDigest(auth.author_key)), kAuthorKeyDigest);
  Bytes raw = asBytes(auth);
  EXPECT_EQ(raw[0x240], std::byte{2});  // ID_KEY curve
  EXPECT_EQ(raw[0x880], std::byte{2});  // AUTHOR_KEY curve

  // Pieces that do not belong together are refused: the author signed a different key.
  ImportedSignature wrong = *author;
  wrong.signature.r[0] ^= std::byte{1};
  EXPECT_FALSE(assembleIdBlock(block, *id, wrong).ok());
  SNP_ID_BLOCK other = block;
  other.guest_svn = 8;
  EXPECT_THAT(assembleIdBlock(other, *id, std::nullopt), HasRule("id_block.signature_invalid"));
}

TEST(IdBlock, IgvmDirectiveRoundTrip) {
  SNP_ID_BLOCK block = testBlock();
  Result<SignedIdBlock> signed_block =
      signIdBlock(block, readText(kIdKey), std::string_view(readText(kAuthorKey)));
  ASSERT_TRUE(signed_block.ok()) << signed_block.error().message;
  igvm::IGVM_VHS_SNP_ID_BLOCK d = toIgvmIdBlock(*signed_block, 0x1);
  Bytes raw = asBytes(d);
  ASSERT_EQ(raw.size(), 696u);
  EXPECT_EQ(raw[0x000], std::byte{1});        // compatibility mask
  EXPECT_EQ(raw[0x004], std::byte{1});        // author_key_enabled
  EXPECT_EQ(raw[0x008 + 47], std::byte{47});  // ld
  EXPECT_EQ(raw[0x058], std::byte{1});        // version
  EXPECT_EQ(raw[0x05C], std::byte{7});        // guest_svn
  EXPECT_EQ(raw[0x060], std::byte{1});        // id_key_algorithm
  EXPECT_EQ(raw[0x064], std::byte{1});        // author_key_algorithm
  EXPECT_EQ(std::memcmp(raw.data() + 0x068, signed_block->auth_info.id_block_sig.r, 72), 0);
  EXPECT_EQ(raw[0x0F8], std::byte{2});          // id key curve
  EXPECT_TRUE(allZero(raw.subspan(0x0FC, 4)));  // the IGVM-only reserved word
  EXPECT_EQ(std::memcmp(raw.data() + 0x100, signed_block->auth_info.id_key.qx, 72), 0);
  EXPECT_EQ(std::memcmp(raw.data() + 0x148, signed_block->auth_info.id_key.qy, 72), 0);
  EXPECT_EQ(raw[0x220], std::byte{2});  // author key curve

  // A loader rebuilds the AMD structures with the policy from GUEST_POLICY; they verify.
  Result<SignedIdBlock> back = fromIgvmIdBlock(d, 0x30000);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(verifyIdBlock(*back).ok());
  EXPECT_EQ(std::memcmp(&back->auth_info, &signed_block->auth_info, sizeof(SNP_ID_AUTH_INFO)), 0);
  EXPECT_EQ(std::memcmp(&back->id_block, &block, sizeof(SNP_ID_BLOCK)), 0);
  // With another policy the ID block signature no longer matches.
  Result<SignedIdBlock> other_policy = fromIgvmIdBlock(d, 0x30001);
  ASSERT_TRUE(other_policy.ok());
  EXPECT_THAT(verifyIdBlock(*other_policy), HasRule("id_block.signature_invalid"));
}

TEST(IdBlock, WithoutAuthorKey) {
  Result<SignedIdBlock> signed_block = signIdBlock(testBlock(), readText(kIdKey), std::nullopt);
  ASSERT_TRUE(signed_block.ok());
  EXPECT_FALSE(signed_block->author_key_enabled);
  EXPECT_EQ(signed_block->auth_info.auth_key_algo, 0u);
  EXPECT_TRUE(allZero(asBytes(signed_block->auth_info.author_key)));
  igvm::IGVM_VHS_SNP_ID_BLOCK d = toIgvmIdBlock(*signed_block, 0x1);
  EXPECT_EQ(d.author_key_enabled, 0);
  EXPECT_EQ(d.author_key_algorithm, 0u);
  EXPECT_TRUE(allZero(asBytes(d.author_public_key)));
  Result<SignedIdBlock> back = fromIgvmIdBlock(d, 0x30000);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(verifyIdBlock(*back).ok());

  d.author_key_algorithm = 1;  // SVSM's convention without an author key is accepted too
  EXPECT_TRUE(fromIgvmIdBlock(d, 0x30000).ok());
  d.author_key_algorithm = 2;
  EXPECT_THAT(fromIgvmIdBlock(d, 0x30000), HasRule("id_block.algorithm"));
  d.author_key_algorithm = 0;
  d.id_key_algorithm = 0;
  EXPECT_THAT(fromIgvmIdBlock(d, 0x30000), HasRule("id_block.algorithm"));
  d.id_key_algorithm = 1;
  d.author_public_key.curve = 2;  // author fields without the flag
  EXPECT_THAT(fromIgvmIdBlock(d, 0x30000), HasRule("id_block.author_fields"));
  d.author_key_enabled = 2;
  EXPECT_THAT(fromIgvmIdBlock(d, 0x30000), HasRule("id_block.author_fields"));
}

TEST(IdBlock, VerifyRejectsMalformedKeys) {
  Result<SignedIdBlock> signed_block = signIdBlock(testBlock(), readText(kIdKey), std::nullopt);
  ASSERT_TRUE(signed_block.ok());
  SignedIdBlock b = *signed_block;
  b.auth_info.id_key.curve = 1;
  EXPECT_THAT(verifyIdBlock(b), HasRule("id_block.key_invalid"));
  b = *signed_block;
  b.auth_info.id_key.qx[0] ^= std::byte{1};  // no longer on the curve
  EXPECT_THAT(verifyIdBlock(b), HasRule("id_block.key_invalid"));
  b = *signed_block;
  b.auth_info.id_key.qx[60] = std::byte{1};  // beyond the 48-byte integer
  EXPECT_THAT(verifyIdBlock(b), HasRule("id_block.integer_size"));
  b = *signed_block;
  b.auth_info.id_block_sig.s[0] ^= std::byte{1};
  EXPECT_THAT(verifyIdBlock(b), HasRule("id_block.signature_invalid"));
}

// Directive bytes come from files; arbitrary ones must produce errors, never crashes.
TEST(IdBlock, ArbitraryDirectiveBytesAreRejectedCleanly) {
  Result<SignedIdBlock> good = signIdBlock(testBlock(), readText(kIdKey), std::nullopt);
  ASSERT_TRUE(good.ok());
  igvm::IGVM_VHS_SNP_ID_BLOCK base = toIgvmIdBlock(*good, 1);
  uint32_t seed = 12345;
  for (int round = 0; round < 200; ++round) {
    igvm::IGVM_VHS_SNP_ID_BLOCK d = base;
    auto* raw = reinterpret_cast<unsigned char*>(&d);
    // Flip a few bytes (xorshift), sometimes everything.
    int flips = round % 10 == 0 ? static_cast<int>(sizeof(d)) : 1 + round % 4;
    for (int f = 0; f < flips; ++f) {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      raw[flips == static_cast<int>(sizeof(d)) ? f : seed % sizeof(d)] ^=
          static_cast<unsigned char>(seed >> 8) | 1;
    }
    Result<SignedIdBlock> back = fromIgvmIdBlock(d, 0x30000);
    if (back.ok()) {
      Status s = verifyIdBlock(*back);
      // Only changes to fields the signature does not cover (mask, algorithms, reserved) verify.
      if (s.ok()) {
        EXPECT_EQ(std::memcmp(&back->id_block, &good->id_block, sizeof(SNP_ID_BLOCK)), 0);
      }
    }
  }
}

}  // namespace
}  // namespace igvmkit::measure
