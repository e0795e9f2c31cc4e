// measure/id_block.h: the SEV-SNP ID block and ID authentication structure that
// SNP_LAUNCH_FINISH checks (measurement.md §2), and the IGVM directive that carries them
// (IGVM_VHS_SNP_ID_BLOCK, igvm-format.md §6).
//
// The ID key (ECDSA P-384, SHA-384) signs the 96-byte ID_BLOCK; the optional author key signs
// the ID key's 0x404-byte public-key structure. Signatures and public keys are stored as
// little-endian integers zero-padded to 72 bytes. The report then shows MEASUREMENT (= the
// block's LD) and ID_KEY_DIGEST / AUTHOR_KEY_DIGEST = SHA-384 of the 0x404-byte keys.
//
// Signing is two steps so the private key can live elsewhere (an HSM, `openssl dgst -sign`):
//
//   SNP_ID_BLOCK block = makeIdBlock({.ld = launch_digest, .policy = 0x30000});
//   ByteVector msg = bytesToSign(block);                      // 96 bytes: sign these
//   ... der = ECDSA-P384-SHA384(id_private_key, msg) ...
//   IGVMKIT_ASSIGN_OR_RETURN(auto id, importSignature(msg, der, id_public_pem));  // verifies
//   ByteVector key_msg = bytesToSign(id.public_key);          // 0x404 bytes for the author key
//   IGVMKIT_ASSIGN_OR_RETURN(auto author, importSignature(key_msg, der2, author_public_pem));
//   IGVMKIT_ASSIGN_OR_RETURN(SignedIdBlock signed_block, assembleIdBlock(block, id, author));
//   igvm::IGVM_VHS_SNP_ID_BLOCK directive = toIgvmIdBlock(signed_block, /*mask=*/0x1);
//
// sign/ (sign/image.h) runs these steps for PEM keys, PKCS#11 tokens and external signers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/defs.h"
#include "measure/digest.h"

namespace igvmkit::measure {

inline constexpr uint32_t kSnpAlgoEcdsaP384Sha384 = 1;  // ID_KEY_ALGO / AUTH_KEY_ALGO
inline constexpr uint32_t kSnpCurveP384 = 2;            // public key CURVE
inline constexpr size_t kSnpEcdsaComponentSize = 72;    // r, s, qx, qy fields (LE, zero-padded)
inline constexpr size_t kP384Size = 48;                 // bytes of a P-384 integer

// ID_BLOCK (0x60 bytes), what the ID key signs (§2.1).
struct [[gnu::packed]] SNP_ID_BLOCK {
  std::byte ld[48];         // the expected launch digest; LAUNCH_FINISH fails unless it equals LD
  std::byte family_id[16];  // reported as FAMILY_ID
  std::byte image_id[16];   // reported as IMAGE_ID
  uint32_t version;         // 1
  uint32_t guest_svn;       // reported as GUEST_SVN
  uint64_t policy;          // must equal the launch policy
};
static_assert(sizeof(SNP_ID_BLOCK) == 0x60);
static_assert(offsetof(SNP_ID_BLOCK, family_id) == 0x30);
static_assert(offsetof(SNP_ID_BLOCK, image_id) == 0x40);
static_assert(offsetof(SNP_ID_BLOCK, version) == 0x50);
static_assert(offsetof(SNP_ID_BLOCK, guest_svn) == 0x54);
static_assert(offsetof(SNP_ID_BLOCK, policy) == 0x58);

// ECDSA signature structure (0x200 bytes, §2.3).
struct [[gnu::packed]] SNP_ECDSA_SIGNATURE {
  std::byte r[72];  // little endian, bytes 48..71 zero
  std::byte s[72];  // little endian, bytes 48..71 zero
  std::byte reserved[0x200 - 0x90];
};
static_assert(sizeof(SNP_ECDSA_SIGNATURE) == 0x200);
static_assert(offsetof(SNP_ECDSA_SIGNATURE, s) == 0x48);
static_assert(offsetof(SNP_ECDSA_SIGNATURE, reserved) == 0x90);

// ECDSA public-key structure (0x404 bytes, §2.3): what the author key signs and what the
// report's key digests hash.
struct [[gnu::packed]] SNP_ECDSA_PUBLIC_KEY {
  uint32_t curve;    // 2 = P-384
  std::byte qx[72];  // little endian, zero-padded
  std::byte qy[72];  // little endian, zero-padded
  std::byte reserved[0x404 - 0x94];
};
static_assert(sizeof(SNP_ECDSA_PUBLIC_KEY) == 0x404);
static_assert(offsetof(SNP_ECDSA_PUBLIC_KEY, qx) == 0x04);
static_assert(offsetof(SNP_ECDSA_PUBLIC_KEY, qy) == 0x4C);
static_assert(offsetof(SNP_ECDSA_PUBLIC_KEY, reserved) == 0x94);

// ID_AUTH_INFO (0x1000 bytes, §2.2).
struct [[gnu::packed]] SNP_ID_AUTH_INFO {
  uint32_t id_key_algo;    // 1
  uint32_t auth_key_algo;  // 1 with an author key, else 0
  std::byte reserved0[0x38];
  SNP_ECDSA_SIGNATURE id_block_sig;  // ID key over the ID_BLOCK
  SNP_ECDSA_PUBLIC_KEY id_key;
  std::byte reserved1[0x3C];
  SNP_ECDSA_SIGNATURE id_key_sig;   // author key over id_key (zero without an author key)
  SNP_ECDSA_PUBLIC_KEY author_key;  // zero without an author key
  std::byte reserved2[0x37C];
};
static_assert(sizeof(SNP_ID_AUTH_INFO) == 0x1000);
static_assert(offsetof(SNP_ID_AUTH_INFO, auth_key_algo) == 0x004);
static_assert(offsetof(SNP_ID_AUTH_INFO, id_block_sig) == 0x040);
static_assert(offsetof(SNP_ID_AUTH_INFO, id_key) == 0x240);
static_assert(offsetof(SNP_ID_AUTH_INFO, reserved1) == 0x644);
static_assert(offsetof(SNP_ID_AUTH_INFO, id_key_sig) == 0x680);
static_assert(offsetof(SNP_ID_AUTH_INFO, author_key) == 0x880);
static_assert(offsetof(SNP_ID_AUTH_INFO, reserved2) == 0xC84);

// The IGVM directive that carries these (type 0x30B) is igvm::IGVM_VHS_SNP_ID_BLOCK in
// igvm/defs.h (696 bytes). It has no policy, and its public keys carry an extra reserved u32
// after the curve that is NOT part of the signed 0x404 form.

struct IdBlockParams {
  Sha384Digest ld{};
  std::array<std::byte, 16> family_id{};
  std::array<std::byte, 16> image_id{};
  uint32_t version = 1;
  uint32_t guest_svn = 0;
  uint64_t policy = 0;  // the launch policy (the IGVM GUEST_POLICY of the SNP platform)
};

SNP_ID_BLOCK makeIdBlock(const IdBlockParams& params);

// The bytes the ID key signs: the 96-byte ID block.
ByteVector bytesToSign(const SNP_ID_BLOCK& id_block);
// The bytes the author key signs: the ID key's 0x404-byte public-key structure.
ByteVector bytesToSign(const SNP_ECDSA_PUBLIC_KEY& id_key);

// The public-key structure of a P-384 key given as PEM (a public key, or a private key whose
// public half is used). Errors: "id_block.key_pem" (not a PEM key), "id_block.key_type" (not
// ECDSA P-384).
Result<SNP_ECDSA_PUBLIC_KEY> publicKeyFromPem(std::string_view pem);

// The public-key structure of a P-384 point given as SEC 1 uncompressed bytes (04 || X || Y, as
// PKCS#11 CKA_EC_POINT holds it inside an OCTET STRING). "id_block.key_invalid" unless it is a
// point on P-384.
Result<SNP_ECDSA_PUBLIC_KEY> publicKeyFromPoint(Bytes uncompressed_point);

// ID_KEY_DIGEST / AUTHOR_KEY_DIGEST as the attestation report shows them: SHA-384 of the
// 0x404-byte public-key structure.
Result<Sha384Digest> keyDigest(const SNP_ECDSA_PUBLIC_KEY& key);

// A signature accepted after it verified, with the key it verified under.
struct ImportedSignature {
  SNP_ECDSA_SIGNATURE signature;
  SNP_ECDSA_PUBLIC_KEY public_key;
};

// Step two of signing: `signature` (DER or raw r||s, see parseSignature) must verify as ECDSA
// P-384/SHA-384 over `signed_bytes` under `public_key_pem`, or it is refused
// ("id_block.signature_invalid", code kVerifyFailed). Also "id_block.signature_der" for a
// malformed signature and the key errors of publicKeyFromPem.
Result<ImportedSignature> importSignature(Bytes signed_bytes, Bytes signature,
                                          std::string_view public_key_pem);

// An ECDSA signature given as X9.62 DER (ECDSA-Sig-Value) or as 96 raw bytes r || s (big
// endian, as PKCS#11 CKM_ECDSA and JOSE give it), in SNP form. A buffer that parses completely as
// DER is DER. "id_block.signature_der" for anything else, "id_block.integer_size" when r or s
// exceeds 48 bytes.
Result<SNP_ECDSA_SIGNATURE> parseSignature(Bytes signature);

// Step two of signing with the public key in SNP form: `signature` (DER or raw r||s) must
// verify over `signed_bytes` ("id_block.signature_invalid" otherwise).
Result<ImportedSignature> importSignature(Bytes signed_bytes, Bytes signature,
                                          const SNP_ECDSA_PUBLIC_KEY& public_key);

// Checks an SNP-format signature over `message` under an SNP-format key (as firmware does).
// "id_block.key_invalid" for a key that is not a P-384 point, "id_block.signature_invalid".
Status verifySnpSignature(Bytes message, const SNP_ECDSA_SIGNATURE& signature,
                          const SNP_ECDSA_PUBLIC_KEY& key);

// The DER encoding of an SNP-format signature (for `openssl dgst -verify` and other tools).
Result<ByteVector> signatureToDer(const SNP_ECDSA_SIGNATURE& signature);

// ECDSA P-384/SHA-384 signature (DER) of `message` with a PEM private key, via OpenSSL EVP.
// An encrypted key is refused ("id_block.key_encrypted"), never prompted for.
Result<ByteVector> signDer(std::string_view private_key_pem, Bytes message);

// An ID block with its authentication information, as LAUNCH_FINISH takes them.
struct SignedIdBlock {
  SNP_ID_BLOCK id_block;
  SNP_ID_AUTH_INFO auth_info;
  bool author_key_enabled = false;
};

// Puts the pieces together, re-verifying both signatures against what they must cover: `id` over
// the ID block, `author` (if any) over id.public_key.
Result<SignedIdBlock> assembleIdBlock(const SNP_ID_BLOCK& id_block, const ImportedSignature& id,
                                      const std::optional<ImportedSignature>& author);

// Verifies both signatures of an assembled block.
Status verifyIdBlock(const SignedIdBlock& block);

// The 696-byte IGVM directive for a signed block (the policy is not stored there: it comes from
// the file's GUEST_POLICY header).
igvm::IGVM_VHS_SNP_ID_BLOCK toIgvmIdBlock(const SignedIdBlock& block,
                                               uint32_t compatibility_mask);

// What a QEMU-style loader rebuilds from the directive for LAUNCH_FINISH: `policy` from the
// GUEST_POLICY header, VERSION forced to 1, public keys re-packed without the reserved word.
// "id_block.author_fields" when author_key_enabled is 0 but author fields are not all zero, or
// author_key_enabled is neither 0 nor 1; "id_block.algorithm" for an algorithm other than 1
// (author_key_algorithm may be 0 or 1 without an author key). AUTH_KEY_ALGO becomes 1 with an
// author key and 0 without.
Result<SignedIdBlock> fromIgvmIdBlock(const igvm::IGVM_VHS_SNP_ID_BLOCK& directive,
                                      uint64_t policy);

}  // namespace igvmkit::measure
