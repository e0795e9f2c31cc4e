// sign/image.h: the one SNP ID-block signing pipeline, shared by `igvmkit sign` and
// `igvmkit build`. File -> ID block to sign -> signatures (signed now, imported, or reused) ->
// verified SignedIdBlock -> the file with its SNP_ID_BLOCK directive.
//
//   IGVMKIT_ASSIGN_OR_RETURN(UnsignedIdBlock u, prepareIdBlock(file, {.vcpus = 2, .guest_svn = 3}));
//   IGVMKIT_ASSIGN_OR_RETURN(auto id, openSigner("pkcs11:token=igvm;object=id?pin-value=1234",
//                                                {.role = "id"}, readFile));
//   IGVMKIT_ASSIGN_OR_RETURN(measure::SignedIdBlock block, signIdBlock(u.block, *id, nullptr));
//   IGVMKIT_ASSIGN_OR_RETURN(ByteVector out, withIdBlock(file, block, u.mask, std::nullopt));
//
// Offline: export measure::bytesToSign(u.block) (and bytesToSign(id public key) for the author
// key), sign them elsewhere, and pass importedSignature() signers to signIdBlock(), which checks
// them exactly as it checks its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "igvm/file.h"
#include "measure/id_block.h"
#include "measure/reference.h"
#include "measure/snp_host.h"
#include "sign/signer.h"

namespace igvmkit::sign {

// What the ID block says beyond the launch digest, and which digest that is.
struct IdBlockRequest {
  measure::HostModel host = measure::HostModel::kKvm;  // host model of the signed digest
  uint32_t vcpus = 1;                                  // vCPUs of the digest (kvm only)
  std::array<std::byte, 16> family_id{};
  std::array<std::byte, 16> image_id{};
  uint32_t guest_svn = 0;
  // The launch policy. Absent: the file's SNP GUEST_POLICY ("sign.no_policy" without one).
  // Present: it also becomes the file's GUEST_POLICY, since firmware requires the two equal.
  std::optional<uint64_t> policy;
};

struct UnsignedIdBlock {
  measure::SNP_ID_BLOCK block;
  uint32_t mask = 0;                  // the SNP platform's compatibility mask
  std::vector<std::string> warnings;  // from measuring (cli-contract: measure warns, exit 0)
};

// Measures `file` for SNP under the request's host model and builds the ID block to sign.
// Errors: measure's; "sign.no_policy".
Result<UnsignedIdBlock> prepareIdBlock(const igvm::File& file, const IdBlockRequest& request);

// `id` signs the 96-byte block, `author` (optional) the ID key's 0x404-byte public-key structure;
// each signature is verified under its key, and the assembled block again as firmware will.
Result<measure::SignedIdBlock> signIdBlock(const measure::SNP_ID_BLOCK& block, Signer& id,
                                           Signer* author);

// An earlier image's signatures, as signers that replay them: `old`'s SNP_ID_BLOCK for `mask`
// when it was made by the same keys (`id_key`, `author_key`) over exactly `block` (same launch
// digest, family/image id, SVN and policy). nullopt when anything differs, so the caller signs
// anew. ECDSA is randomised; this keeps a rebuilt image byte-identical when nothing signed changed.
struct ReusedSignatures {
  std::unique_ptr<Signer> id;
  std::unique_ptr<Signer> author;  // null without an author key
};
std::optional<ReusedSignatures> reuseSignatures(const igvm::File& old, uint32_t mask,
                                                const measure::SNP_ID_BLOCK& block,
                                                const measure::SNP_ECDSA_PUBLIC_KEY& id_key,
                                                const measure::SNP_ECDSA_PUBLIC_KEY* author_key);

// The file re-written with `block` as its SNP_ID_BLOCK for `mask` (replacing the one there, or
// appended) and, with `policy`, that GUEST_POLICY for `mask` (replacing or added).
Result<ByteVector> withIdBlock(const igvm::File& file, const measure::SignedIdBlock& block,
                               uint32_t mask, std::optional<uint64_t> policy);

// The SNP ID blocks a file carries, decoded with the file's GUEST_POLICY for their mask.
struct FileIdBlock {
  uint32_t mask = 0;
  measure::SignedIdBlock block;
};
Result<std::vector<FileIdBlock>> idBlocksOf(const igvm::File& file);

// What a verifier pins for a signed block: the report's ID_KEY_DIGEST, AUTHOR_KEY_DIGEST,
// FAMILY_ID, IMAGE_ID, GUEST_SVN and POLICY.
Result<measure::ReferenceDigest::IdBlockIdentity> identityOf(const measure::SignedIdBlock& block);

// Adds identityOf() to every SNP measurement of `ref` whose digest is an ID block's launch digest
// (the ID block only launches the host model and vCPU count it was signed for).
Status addIdentity(const igvm::File& file, measure::ReferenceValues& ref);

}  // namespace igvmkit::sign
